"""A ledger written by release 0.1 migrates forward with nothing lost and keeps deciding."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from consent_mapper.ledger.store import Ledger
from consent_mapper.rules import CRM, PLATFORM, RecordKey

FIXTURE = Path(__file__).parent / "fixtures" / "ledger-0.1.db"


def _copy(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    shutil.copy(FIXTURE, path)
    return path


def test_release_0_1_ledger_migrates_with_every_person_record_and_decision(tmp_path):
    path = _copy(tmp_path)
    before = sqlite3.connect(path)
    counts = {t: before.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
              for t in ("ledger_people", "ledger_records", "ledger_audit", "ledger_runs")}
    before.close()

    ledger = Ledger(f"sqlite:///{path}")
    with ledger.transaction(commit=False) as tx:
        ada, bob, gone = (tx.person(e) for e in ("ada@x.io", "bob@x.io", "gone@x.io"))
        assert len(tx.history("bob@x.io")) > 0
        runs = tx.last_runs()
    ledger.close()

    after = sqlite3.connect(path)
    assert after.execute("SELECT version_num FROM ledger_alembic_version").fetchone() == ("0005",)
    for table, n in counts.items():
        assert after.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n  # noqa: S608
    after.close()
    assert ada.agreed is True and bob.agreed is True and gone.agreed is False
    lead = RecordKey(CRM, "salesforce", "Lead", "00Q2")
    assert bob.records[lead].pending is True  # the unconfirmed write is still owed (R7)
    assert bob.records[lead].observed is False
    contact = RecordKey(PLATFORM, "autopilot", "contact", "ada@x.io")
    assert ada.records[contact].observed is True
    (deselected,) = gone.records.values()
    assert deselected.live is False and deselected.selected is False
    assert {r["direction"] for r in runs} == {"salesforce_to_autopilot",
                                              "autopilot_to_salesforce"}
    assert {r["platform"] for r in runs} == {"autopilot"}


def test_a_migrated_ledger_knows_its_contacts_under_their_own_spelling(tmp_path):
    import json
    import subprocess
    import sys

    path = _copy(tmp_path)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"direction": "autopilot_to_salesforce",
                                  "ledger_url": f"sqlite:///{path}"}))
    lines = [
        {"type": "SCHEMA", "stream": "contacts", "key_properties": ["contact_id"],
         "schema": {"type": "object", "properties": {"contact_id": {"type": "string"}}}},
        {"type": "RECORD", "stream": "contacts", "record": {
            "contact_id": "person_1", "Email": "Ada@X.io", "unsubscribed": True,
            "updated_at": "2026-01-01T00:01:00.000Z"}},
    ]
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "consent-mapper"), "--config", str(config)],
        input="".join(json.dumps(m) + "\n" for m in lines), capture_output=True, text=True,
        timeout=60, check=True)
    written = [json.loads(li) for li in proc.stdout.splitlines() if '"RECORD"' in li]
    # Ada's unchanged contact asks for nothing; bob's pending write waits for a Salesforce read
    assert written == []
    ledger = Ledger(f"sqlite:///{path}")
    with ledger.transaction(commit=False) as tx:
        ada = tx.person("ada@x.io")
    ledger.close()
    assert [k.record_id for k in ada.records if k.role == PLATFORM] == ["Ada@X.io"]
