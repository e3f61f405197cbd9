import json
import subprocess
import sys

from tap_autopilot.tap import TapAutopilot

SETTINGS = {"api_key", "base_url", "ca_bundle", "start_date", "rate_limit_per_second",
            "safety_margin_seconds"}


def test_about_describes_every_setting_and_hides_the_key():
    out = subprocess.run([sys.executable, "-m", "tap_autopilot.tap", "--about", "--format=json"],
                         capture_output=True, text=True, check=True).stdout
    properties = json.loads(out)["settings"]["properties"]
    assert SETTINGS <= set(properties)
    for name in SETTINGS:
        assert properties[name].get("description"), name
    assert properties["api_key"].get("secret") is True
    assert properties["base_url"]["default"] == "https://api2.autopilothq.com/v1"
    assert properties["rate_limit_per_second"]["default"] == 5


def test_streams_and_keys_follow_the_contract():
    tap = TapAutopilot(config={"api_key": "k"}, parse_env_config=False)
    streams = tap.streams
    assert set(streams) == {"contacts", "lists", "list_members", "custom_fields"}
    contacts = streams["contacts"]
    assert contacts.primary_keys == ("contact_id",)
    assert contacts.replication_key == "updated_at"
    assert contacts.is_sorted is False
    props = contacts.schema["properties"]
    for name in ("contact_id", "Email", "unsubscribed", "hard_bounced", "hard_bounced_at",
                 "lists", "custom_fields", "created_at", "updated_at"):
        assert name in props
    assert set(streams["list_members"].schema["properties"]) == {"list_id", "contact_id", "Email"}
