"""Compare-and-set: guarded fields are left out when Autopilot holds another value than expected."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

from target_autopilot.expectations import same

from .test_target_on_sandbox import SCHEMA, SCRIPT, contacts

GUARDED = copy.deepcopy(SCHEMA)
GUARDED["schema"]["properties"]["_expected"] = {"type": ["object", "null"]}


def test_values_compare_as_autopilot_types():
    assert same("True", True) and same(12, 12.0) and same(None, "")
    assert same("2025-03-01T10:00:00.000Z", "2025-03-01T10:00:00.000+00:00")
    assert not same("Gold", "Silver") and not same(False, None) and not same(1, True)


def test_a_field_changed_since_is_left_out_and_the_rest_written(clean_sandbox, target_config,
                                                                tmp_path):
    sandbox = clean_sandbox
    sandbox.admin("autopilot", "POST", "/contacts", json=[  # stored as Autopilot reads them
        {"Email": email, "custom_fields": [{"kind": "Customer Tier", "fieldType": "string",
                                            "value": tier}]}
        for email, tier in (("a@x.io", "Platinum"), ("b@x.io", "Gold"), ("c@x.io", "Platinum"))])
    guarded = [
        {"Email": "a@x.io", "unsubscribed": True, "custom_fields": {"Customer Tier": "Silver"},
         "_expected": {"Customer Tier": "Gold"}},
        {"Email": "b@x.io", "custom_fields": {"Customer Tier": "Silver"},
         "_expected": {"Customer Tier": "Gold"}},
        {"Email": "new@x.io", "custom_fields": {"Customer Tier": "Silver"},
         "_expected": {"Customer Tier": None}},
        {"Email": "c@x.io", "custom_fields": {"Customer Tier": "Silver"},
         "_expected": {"Customer Tier": "Gold"}}]
    sandbox.admin("autopilot", "DELETE", "/calls")
    done = run_target_with(target_config, tmp_path, guarded)
    assert done.returncode == 0, done.stderr
    assert "Customer Tier is 'Platinum', expected 'Gold'" in done.stderr
    tiers = {email: ({c["kind"]: c["value"] for c in row.get("custom_fields", [])},
                     bool(row.get("unsubscribed"))) for email, row in contacts(sandbox).items()}
    assert tiers == {"a@x.io": ({"Customer Tier": "Platinum"}, True),  # consent still written
                     "b@x.io": ({"Customer Tier": "Silver"}, False),
                     "new@x.io": ({"Customer Tier": "Silver"}, False),
                     "c@x.io": ({"Customer Tier": "Platinum"}, False)}
    assert "3 contacts upserted" in done.stderr  # c had nothing left to write: not sent


def run_target_with(config: dict, workdir: Path, records: list[dict]
                    ) -> subprocess.CompletedProcess:
    path = workdir / "config.json"
    path.write_text(json.dumps(config))
    lines = [GUARDED, *({"type": "RECORD", "stream": "contacts", "record": r} for r in records),
             {"type": "STATE", "value": {"n": 1}}]
    return subprocess.run([str(SCRIPT), "--config", str(path)], text=True,
                          input="".join(json.dumps(m) + "\n" for m in lines),
                          capture_output=True, timeout=300, check=False)
