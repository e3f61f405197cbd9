"""A ledger written by release 0.1 migrates forward with nothing lost and keeps deciding."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from consent_mapper.ledger.store import HEAD_REVISION, Ledger
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
    version = after.execute("SELECT version_num FROM ledger_alembic_version").fetchone()
    assert version == (HEAD_REVISION,)
    for table, n in counts.items():
        assert after.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n  # noqa: S608
    after.close()
    assert ada.agreed is True and bob.agreed is True and gone.agreed is False
    # a profile read back before the upgrade had its lists read back with it (revision 0007)
    assert (ada.lists_confirmed, bob.lists_confirmed, gone.lists_confirmed) == (True, True, False)
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


# Runs in a child process: SIGKILL itself right after the migration's Nth DDL statement,
# so the kill lands inside the migration, where a crashed first run (or upgrade) would.
KILL_MID_MIGRATION = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
from consent_mapper.ledger.store import open_engine

ddl = 0

@event.listens_for(Engine, "after_cursor_execute")
def kill_after(conn, cursor, statement, *args):
    global ddl
    if statement.lstrip().upper().startswith(("CREATE", "ALTER", "DROP")):
        ddl += 1
        if ddl == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)

open_engine(sys.argv[1])
"""


def _killed_mid_migration(url: str, after_ddl: int) -> None:
    import signal
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", KILL_MID_MIGRATION, url, str(after_ddl)],
                           capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr


def test_a_first_run_killed_mid_migration_leaves_a_ledger_the_next_run_opens(tmp_path):
    path = tmp_path / "ledger.db"
    _killed_mid_migration(f"sqlite:///{path}", after_ddl=2)

    ledger = Ledger(f"sqlite:///{path}")  # failed before: "table ledger_people already exists"
    with ledger.transaction() as tx:
        assert tx.person("ada@x.io").agreed is None
    ledger.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT version_num FROM ledger_alembic_version").fetchone() == (
        HEAD_REVISION,)
    db.close()


def test_an_upgrade_killed_midway_keeps_the_old_ledger_whole_and_migrates_next_time(tmp_path):
    path = _copy(tmp_path)
    _killed_mid_migration(f"sqlite:///{path}", after_ddl=3)

    db = sqlite3.connect(path)
    assert db.execute("SELECT version_num FROM ledger_alembic_version").fetchone() == ("0001",)
    db.close()
    ledger = Ledger(f"sqlite:///{path}")
    with ledger.transaction(commit=False) as tx:
        assert tx.person("bob@x.io") is not None
        assert len(tx.history("bob@x.io")) > 0
    ledger.close()


def test_a_ledger_of_the_last_release_gains_the_new_columns_with_nothing_lost(tmp_path):
    # revision 0007 is what the last release writes; 0008 adds the profile held back (R4),
    # 0009 a removal's wait for the next platform read and a deletion's run (R8)
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from consent_mapper.ledger.store import MIGRATIONS

    path = _copy(tmp_path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    engine.dispose()
    db = sqlite3.connect(path)
    people = db.execute("SELECT * FROM ledger_people ORDER BY email").fetchall()
    others = "SELECT * FROM ledger_records WHERE email != 'ada@x.io' ORDER BY 1, 2, 3"
    records = db.execute(others).fetchall()
    db.close()

    ledger = Ledger(f"sqlite:///{path}")
    with ledger.transaction() as tx:
        ada = tx.person("ada@x.io")
        assert ada.withheld_profile is None and ada.agreed is True
        ada.withheld_profile = '{"FirstName": "Ada"}'
        tx.save(ada)
        tx.flush()
        assert "ada@x.io" in tx.attention(PLATFORM, "autopilot", 0, 1, crm_read_run=False)
    ledger.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT version_num FROM ledger_alembic_version").fetchone() == (
        HEAD_REVISION,)
    after = db.execute("SELECT * FROM ledger_people ORDER BY email").fetchall()
    # every column kept, the new one last; only the row saved here changed
    assert [row[:len(people[0])] for row in after if row[0] != "ada@x.io"] == \
        [row for row in people if row[0] != "ada@x.io"]
    # every record column kept; a removal waiting, or a deletion sent, before the upgrade
    # carries no run: it waits for a read of the contact as before, and counts as written
    assert records and [row[:len(records[0])] for row in db.execute(others)] == records
    new_columns = "SELECT exit_read, deleted_run FROM ledger_records WHERE email != 'ada@x.io'"
    assert set(db.execute(new_columns)) == {(None, None)}
    assert db.execute("SELECT email FROM ledger_people WHERE withheld_profile IS NOT NULL"
                      ).fetchall() == [("ada@x.io",)]
    db.close()
