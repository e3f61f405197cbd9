"""target-autopilot as Meltano runs it, against the Autopilot stand-in over loopback TLS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from consent_sandbox.testing import running_sandbox

SCRIPT = Path(sys.executable).parent / "target-autopilot"
SCHEMA = {"type": "SCHEMA", "stream": "contacts", "key_properties": ["Email"], "schema": {
    "type": "object", "properties": {
        "Email": {"type": "string"}, "FirstName": {"type": ["string", "null"]},
        "unsubscribed": {"type": ["boolean", "null"]},
        "custom_fields": {"type": ["object", "null"]},
        "lists": {"type": ["array", "null"], "items": {"type": "string"}},
        "lists_remove": {"type": ["array", "null"], "items": {"type": "string"}},
        "_sdc_deleted_at": {"type": ["string", "null"]}}}}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("sbx"), "--autopilot-rate-limit", "50") as sbx:
        yield sbx


@pytest.fixture
def run(sandbox, tmp_path):
    sandbox.admin("autopilot", "POST", "/reset")
    sandbox.admin("autopilot", "DELETE", "/faults")
    sandbox.admin("autopilot", "DELETE", "/calls")
    ap = sandbox.endpoints["autopilot"]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": ap["api_key"], "base_url": ap["base_url"],
                                  "ca_bundle": sandbox.ca_bundle, "rate_limit_per_second": 40,
                                  "max_retries": 3}))

    def target(*records: dict, state: int = 1) -> subprocess.CompletedProcess:
        lines = [SCHEMA, *({"type": "RECORD", "stream": "contacts", "record": r}
                          for r in records), {"type": "STATE", "value": {"n": state}}]
        return subprocess.run([str(SCRIPT), "--config", str(config)], text=True,
                              input="".join(json.dumps(m) + "\n" for m in lines),
                              capture_output=True, timeout=300, check=False)

    return target


def contacts(sandbox) -> dict[str, dict]:
    return {c["Email"]: c for c in sandbox.admin("autopilot", "GET", "/contacts").json()}


def calls(sandbox, method: str, endpoint: str) -> int:
    return sum(c["count"] for c in sandbox.calls("autopilot")["calls"]
               if (c["method"], c["endpoint"]) == (method, endpoint))


def test_250_contacts_go_in_3_bulk_calls_with_state_after(sandbox, run):
    result = run(*({"Email": f"p{i}@x.io", "FirstName": f"P{i}", "unsubscribed": i % 2 == 0,
                    "lists": ["Salesforce Leads"]} for i in range(250)))
    assert result.returncode == 0, result.stderr[-3000:]
    found = contacts(sandbox)
    assert len(found) == 250 and found["p0@x.io"]["unsubscribed"] is True
    assert found["p1@x.io"]["unsubscribed"] is False and len(found["p1@x.io"]["lists"]) == 1
    assert calls(sandbox, "POST", "/v1/contacts") == 3
    assert calls(sandbox, "POST", "/v1/list") == 1  # the list is created once
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"n": 1}


def test_custom_fields_lists_and_deletions(sandbox, run):
    sandbox.admin("autopilot", "POST", "/contacts", json=[{"Email": "gone@x.io"},
                                                         {"Email": "kept@x.io",
                                                          "unsubscribed": True}])
    result = run({"Email": "kept@x.io", "FirstName": "K", "custom_fields": {"Tier": "Gold"},
                  "lists": ["A", "B"]},
                 {"Email": "gone@x.io", "_sdc_deleted_at": "2026-01-01T00:00:00Z"})
    assert result.returncode == 0, result.stderr[-3000:]
    found = contacts(sandbox)
    assert set(found) == {"kept@x.io"}
    kept = found["kept@x.io"]
    assert kept["unsubscribed"] is True  # no flag in the record: left alone
    assert kept["custom_fields"] == [{"kind": "Tier", "fieldType": "string", "value": "Gold"}]
    assert len(kept["lists"]) == 1  # an existing contact: only the further lists are added
    result = run({"Email": "kept@x.io", "lists_remove": ["B"]})
    assert contacts(sandbox)["kept@x.io"]["lists"] == []


def test_429_and_503_are_survived_with_nothing_lost(sandbox, run):
    sandbox.admin("autopilot", "POST", "/faults", json={"status": 429, "count": 2,
                                                        "method": "POST"})
    sandbox.admin("autopilot", "POST", "/faults", json={"status": 503, "count": 1,
                                                        "method": "POST"})
    result = run(*({"Email": f"r{i}@x.io"} for i in range(150)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(contacts(sandbox)) == 150


def test_a_rejected_record_is_reported_and_fails_the_run_after_the_rest(sandbox, run):
    result = run({"Email": "good@x.io"}, {"Email": "bad@@x.io"}, {"Email": "fine@x.io"})
    assert result.returncode != 0
    assert "bad@@x.io" in result.stderr and "not written" in result.stderr
    assert set(contacts(sandbox)) == {"good@x.io", "fine@x.io"}
    assert '{"n": 1}' not in result.stdout  # no state past a failed record


def test_another_stream_is_refused_by_name(run, sandbox, tmp_path):
    ap = sandbox.endpoints["autopilot"]
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"api_key": ap["api_key"], "base_url": ap["base_url"]}))
    line = json.dumps({**SCHEMA, "stream": "people"}) + "\n"
    result = subprocess.run([str(SCRIPT), "--config", str(config)], input=line, text=True,
                            capture_output=True, timeout=60, check=False)
    assert result.returncode != 0 and "'people' is not supported" in result.stderr


def test_about_describes_every_setting():
    about = json.loads(subprocess.run([str(SCRIPT), "--about", "--format=json"],
                                      capture_output=True, text=True, check=True).stdout)
    ours = {"api_key", "base_url", "ca_bundle", "rate_limit_per_second", "max_retries",
            "list_membership"}
    properties = about["settings"]["properties"]
    assert ours <= set(properties)
    assert all(properties[name].get("description") for name in ours)
    assert properties["api_key"].get("secret") is True
