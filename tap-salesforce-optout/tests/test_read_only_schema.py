"""Fields describe reports not updateable are `readOnly` in the stream schema, catalog or not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "tap-salesforce-optout"


def run(path: Path, *args: str) -> list[dict]:
    done = subprocess.run([str(SCRIPT), "--config", str(path), *args], capture_output=True,
                          text=True, timeout=300, check=True)
    out = done.stdout.strip()
    return [json.loads(out)] if args[:1] == ("--discover",) else \
        [json.loads(line) for line in out.splitlines() if line.strip()]


def test_formula_and_system_fields_are_marked_read_only_through_a_catalog(sandbox, config,
                                                                           tmp_path):
    for name, formula in (("Tier__c", False), ("Score_Band__c", True)):
        sandbox.admin("salesforce", "POST", "/fields",
                      json={"object": "Lead", "name": name, "formula": formula})
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "L", "Company": "C", "Email": "l@x.io", "Score_Band__c": "A"}])
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config, "objects": ["Lead"],
                                "extra_fields": {"Lead": ["Tier__c", "Score_Band__c"]}}))
    (catalog,) = run(path, "--discover")
    for stream in catalog["streams"]:  # selected, as Meltano hands it over
        for entry in stream["metadata"]:
            entry["metadata"]["selected"] = True
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    messages = run(path, "--catalog", str(tmp_path / "catalog.json"))
    (schema,) = [m["schema"] for m in messages if m["type"] == "SCHEMA"]
    properties = schema["properties"]
    assert properties["Score_Band__c"].get("readOnly") is True
    assert properties["SystemModstamp"].get("readOnly") is True
    assert "readOnly" not in properties["Tier__c"]
    assert "readOnly" not in properties["HasOptedOutOfEmail"]
