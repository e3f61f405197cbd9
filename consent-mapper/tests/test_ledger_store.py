"""The ledger on a real SQLite file and a PostgreSQL database: round trips, what needs attention."""

from __future__ import annotations

import sqlite3

from consent_mapper.ledger.store import Ledger
from consent_mapper.ledger_cli import main as ledger_cli
from consent_mapper.rules import CRM, PLATFORM, AuditEvent, RecordKey, RecordMemory

LEAD = RecordKey(CRM, "salesforce", "Lead", "00Q1")
CONTACT = RecordKey(PLATFORM, "autopilot", "contact", "a@x.io")


def lead(n: str) -> RecordKey:
    return RecordKey(CRM, "salesforce", "Lead", n)


def test_migrations_create_the_schema_once_and_record_the_revision(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'ledger.db'}"
    Ledger(url).close()
    Ledger(url).close()  # a second open finds the schema at head and changes nothing
    db = sqlite3.connect(tmp_path / "nested" / "ledger.db")
    tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    assert {"ledger_people", "ledger_records", "ledger_runs", "ledger_audit",
            "ledger_alembic_version"} <= tables
    assert db.execute("select version_num from ledger_alembic_version").fetchall() == [("0005",)]


def test_a_person_round_trips_and_a_moved_record_follows_its_new_address(ledger_url):
    ledger = Ledger(ledger_url)
    with ledger.transaction() as tx:
        memory = tx.load(["a@x.io"])["a@x.io"]
        memory.agreed, memory.opted_out_at = True, "2026-01-01T00:00:00.000+00:00"
        memory.records[LEAD] = RecordMemory(LEAD, observed=True)
        memory.records[CONTACT] = RecordMemory(CONTACT, pending=True, pending_run=3,
                                               pending_at="2026-01-01T00:00:01.000Z")
        tx.save(memory)
        tx.flush()
    with ledger.transaction() as tx:
        again = tx.load(["a@x.io"])["a@x.io"]
        assert again.agreed is True and again.records == memory.records
        # the Lead's address was edited: asked for by key under b@x.io, it is found elsewhere
        other = tx.load(["b@x.io"], [LEAD])["b@x.io"]
        assert other.records == {} and tx.elsewhere[LEAD] == ("a@x.io", memory.records[LEAD])
        other.records[LEAD] = tx.elsewhere[LEAD][1]
        tx.save(other)
        tx.flush()
    with ledger.transaction() as tx:
        assert LEAD not in tx.load(["a@x.io"])["a@x.io"].records
        assert LEAD in tx.load(["b@x.io"])["b@x.io"].records


def test_attention_finds_disagreeing_records_and_lost_writes(ledger_url):
    ledger = Ledger(ledger_url)
    with ledger.transaction() as tx:
        for email, agreed, record in [
            ("agrees@x.io", True, RecordMemory(lead("1"), True)),
            ("disagrees@x.io", True, RecordMemory(lead("2"), False)),
            ("newborn@x.io", True, RecordMemory(lead("3"))),
            ("sent@x.io", True, RecordMemory(lead("4"), False, pending=True, pending_run=5)),
            ("lost@x.io", True, RecordMemory(lead("5"), False, pending=True, pending_run=4)),
            ("deleted@x.io", True, RecordMemory(lead("6"), False, live=False)),
            ("unselected@x.io", True, RecordMemory(lead("7"), False, selected=False)),
            ("by-address@x.io", True, RecordMemory(RecordKey(CRM, "salesforce", "by_email",
                                                             "by-address@x.io"),
                                                   pending=True, pending_run=0)),
        ]:
            memory = tx.load([email])[email]
            memory.agreed, memory.records = agreed, {record.key: record}
            tx.save(memory)
        tx.flush()
        found = tx.attention(CRM, "salesforce", reads=5, retry_after_runs=1,
                             crm_read_run=False)
        # out of the selection is still written (R5); a write by address is never "lost"
        assert found == {"disagrees@x.io", "newborn@x.io", "lost@x.io", "unselected@x.io"}
        # a CRM read ends every write by address (taken over by records, or given up)
        assert "by-address@x.io" in tx.attention(PLATFORM, "autopilot", reads=5,
                                                 retry_after_runs=1, crm_read_run=True)
        assert tx.attention(PLATFORM, "autopilot", reads=5, retry_after_runs=1,
                            crm_read_run=False) == set()


def test_dry_run_transaction_leaves_nothing_behind(ledger_url):
    ledger = Ledger(ledger_url)
    with ledger.transaction(commit=False) as tx:
        run = tx.start_run("salesforce_to_autopilot", "salesforce", "autopilot")
        tx.audit(run, "a@x.io", [AuditEvent("R1", None, True, LEAD, "first sight")])
        tx.finish_run(run, {})
    with ledger.transaction() as tx:
        assert tx.history("a@x.io") == [] and tx.last_runs() == []


def test_history_command_prints_the_decisions_of_a_person(ledger_url, capsys):
    url = ledger_url
    ledger = Ledger(url)
    with ledger.transaction() as tx:
        run = tx.start_run("salesforce_to_autopilot", "salesforce", "autopilot")
        tx.audit(run, "a@x.io", [AuditEvent("R1", None, True, LEAD, "first sight of person",
                                            (CONTACT,))])
        memory = tx.load(["a@x.io"])["a@x.io"]
        memory.agreed, memory.records = True, {CONTACT: RecordMemory(CONTACT, pending=True)}
        tx.save(memory)
        tx.finish_run(run, {"people": 1})
    assert ledger_cli(["--ledger-url", url, "history", " A@X.io"]) == 0
    out = capsys.readouterr().out
    assert "a@x.io: agreed opted out" in out
    assert "R1: unknown -> opted out; source salesforce Lead 00Q1; first sight" in out
    assert "wrote autopilot contact a@x.io" in out
    assert ledger_cli(["--ledger-url", url, "pending"]) == 0
    assert "1 pending write(s)" in capsys.readouterr().out
    assert ledger_cli(["--ledger-url", url, "last-run"]) == 0
    assert "people=1" in capsys.readouterr().out


def test_head_revision_is_the_newest_migration():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from consent_mapper.ledger.store import HEAD_REVISION, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
