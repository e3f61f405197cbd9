"""A catalog discovered in an earlier run (Meltano caches it) does not hide what Salesforce now
shows: each sync describes again and reads by that answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "tap-salesforce-optout"


def _fls(sandbox, field: str, access: str) -> None:
    sandbox.admin("salesforce", "POST", "/fls",
                  json={"object": "Lead", "field": field, "access": access})


def test_a_field_shown_after_discovery_is_read_with_the_old_catalog(sandbox, config, tmp_path):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "L", "Company": "C", "Email": "l@x.io", "Phone": "+49 30 1234"}])
    (tmp_path / "config.json").write_text(json.dumps({**config, "objects": ["Lead"]}))
    base = [str(SCRIPT), "--config", str(tmp_path / "config.json")]
    _fls(sandbox, "Phone", "hidden")
    try:
        discovered = subprocess.run([*base, "--discover"], capture_output=True, text=True,
                                    timeout=300, check=True).stdout
    finally:
        _fls(sandbox, "Phone", "visible")
    catalog = json.loads(discovered)
    assert "Phone" not in catalog["streams"][0]["schema"]["properties"]
    (tmp_path / "catalog.json").write_text(discovered)

    result = subprocess.run([*base, "--catalog", str(tmp_path / "catalog.json")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    [record] = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert record["Phone"] == "+49 30 1234"
    [schema] = [m["schema"] for m in messages if m["type"] == "SCHEMA"]
    assert "Phone" in schema["properties"]
