"""Run the `consent-mapper` console script as Meltano does: Singer lines in, Singer lines out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "consent-mapper"
S2A = {"direction": "salesforce_to_autopilot"}
A2S = {"direction": "autopilot_to_salesforce"}


def schema(stream: str) -> dict:
    return {"type": "SCHEMA", "stream": stream, "key_properties": ["Id"],
            "schema": {"type": "object", "properties": {"Id": {"type": "string"}}}}


def record(stream: str, **values: object) -> dict:
    return {"type": "RECORD", "stream": stream, "record": values}


def state(n: int) -> dict:
    return {"type": "STATE", "value": {"bookmarks": {"n": n}}}


class Run:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.returncode = proc.returncode
        self.stderr = proc.stderr
        self.messages = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    def of(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]

    def records(self, stream: str | None = None) -> list[dict]:
        return [m["record"] for m in self.of("RECORD") if stream in (None, m["stream"])]

    def by_email(self, stream: str = "contacts", key: str = "Email") -> dict[str, dict]:
        return {r[key]: r for r in self.records(stream)}


def history(tmp_path: Path, email: str) -> str:
    """`consent-ledger history` on the ledger of the runs in ``tmp_path``."""
    return subprocess.run(
        [str(SCRIPT.parent / "consent-ledger"), "--ledger-url",
         f"sqlite:///{tmp_path / 'ledger.db'}", "history", email],
        capture_output=True, text=True, timeout=60, check=True).stdout


def run(config: dict, messages: list[dict], tmp_path: Path, *extra: str) -> Run:
    """One `consent-mapper` run on the ledger of ``tmp_path``."""
    config_file = tmp_path / "config.json"
    config = {"ledger_url": f"sqlite:///{tmp_path / 'ledger.db'}", **config}
    config_file.write_text(json.dumps(config))
    lines = "".join(json.dumps(m) + "\n" for m in messages)
    proc = subprocess.run([str(SCRIPT), "--config", str(config_file), *extra], input=lines,
                          capture_output=True, text=True, timeout=60, check=False)
    return Run(proc)
