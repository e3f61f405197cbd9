"""The ledger on PostgreSQL: migrations from empty and from 0002, batched upserts, lengths
SQLite never checked, one deciding transaction at a time; the lease on both backends."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from consent_mapper.ledger.store import CHUNK, HEAD_REVISION, MIGRATIONS, LeaseLost, Ledger
from consent_mapper.rules import CRM, PLATFORM, RecordKey, RecordMemory

TTL = timedelta(seconds=120)


def _columns(url: str) -> dict[tuple[str, str], str]:
    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_name LIKE 'ledger%'")).all()
    engine.dispose()
    return {(t, col): kind for t, col, kind in rows}


def test_a_new_postgresql_ledger_is_migrated_to_head_with_unbounded_text(postgres_url):
    Ledger(postgres_url).close()
    Ledger(postgres_url).close()  # a second open finds the schema at head
    columns = _columns(postgres_url)
    tables = {t for t, _ in columns}
    assert {"ledger_people", "ledger_records", "ledger_runs", "ledger_audit", "ledger_leases",
            "ledger_alembic_version"} <= tables
    varchar = [k for k, kind in columns.items()
               if kind == "character varying" and k[0] != "ledger_alembic_version"]
    assert varchar == []
    assert columns[("ledger_records", "live")] == "boolean"
    engine = create_engine(postgres_url)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM ledger_alembic_version")).all() == [
            (HEAD_REVISION,)]
    engine.dispose()


def test_a_0002_ledger_on_postgresql_keeps_its_rows_through_0003(postgres_url):
    engine = create_engine(postgres_url)
    with engine.begin() as c:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = c
        command.upgrade(config, "0002")
        c.execute(text(
            "INSERT INTO ledger_records (system, object, record_id, role, email, observed, live,"
            " selected, writable, updated_at) VALUES ('salesforce', 'Lead', '00Q1', 'crm',"
            " 'a@x.io', true, true, true, true, '2026-01-01T00:00:00.000Z')"))
    engine.dispose()
    assert _columns(postgres_url)[("ledger_records", "email")] == "character varying"
    ledger = Ledger(postgres_url)
    with ledger.transaction(commit=False) as tx:
        memory = tx.person("a@x.io")
    ledger.close()
    assert memory.records[RecordKey(CRM, "salesforce", "Lead", "00Q1")].observed is True
    assert _columns(postgres_url)[("ledger_records", "email")] == "text"


def test_two_machines_opening_a_new_ledger_at_once_both_get_it_migrated(postgres_url):
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def open_it() -> None:
        start.wait()
        try:
            Ledger(postgres_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_batched_upserts_insert_then_update_more_people_than_a_chunk(postgres_url):
    ledger = Ledger(postgres_url)
    emails = [f"p{n}@x.io" for n in range(CHUNK + 20)]
    long_id = "x" * 400  # past the VARCHAR(320) of release 0.1: PostgreSQL would refuse it
    with ledger.transaction() as tx:
        for n, memory in enumerate(tx.load(emails).values()):
            key = RecordKey(PLATFORM, "autopilot", "contact", f"{n}{long_id}")
            memory.agreed = n % 2 == 0
            memory.records[key] = RecordMemory(key, observed=memory.agreed,
                                               observed_at="2026-01-01T00:00:00.000000+00:00")
            tx.save(memory)
        tx.flush()
    with ledger.transaction() as tx:
        loaded = tx.load(emails)
        assert sum(m.agreed for m in loaded.values()) == (CHUNK + 20 + 1) // 2
        for memory in loaded.values():
            before = tx.load([memory.email])[memory.email]
            memory.agreed = True
            ((key, record),) = memory.records.items()
            memory.records[key] = replace(record, pending=True, pending_run=7)
            tx.save(memory, before)
        tx.flush()
    with ledger.transaction(commit=False) as tx:
        again = tx.load(emails)
    ledger.close()
    assert all(m.agreed is True for m in again.values())
    assert {r.pending_run for m in again.values() for r in m.records.values()} == {7}
    assert all(len(r.key.record_id) > 400 for m in again.values() for r in m.records.values())


def test_deciding_transactions_wait_for_each_other_on_postgresql(postgres_url):
    ledger = Ledger(postgres_url)
    waited: list[bool] = []
    with ledger.transaction() as first:
        assert first.exclusive() is False
        first.start_run("salesforce_to_autopilot", "salesforce", "autopilot")

        def second() -> None:
            with ledger.transaction() as tx:
                waited.append(tx.exclusive())
                assert tx.reads_of("salesforce") == 1  # sees the first one's finished run

        thread = threading.Thread(target=second)
        thread.start()
        _until_a_lock_waits(postgres_url)
        first.finish_run(1, {})
    thread.join()
    ledger.close()
    assert waited == [True]


def _until_a_lock_waits(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as c:
        for _ in range(10_000):
            waiting = c.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class r ON r.oid = l.relation "
                "WHERE r.relname = 'ledger_runs' AND NOT l.granted")).scalar_one()
            c.rollback()
            if waiting:
                break
            threading.Event().wait(0.01)
        else:
            raise AssertionError("the second transaction never waited for the lock")
    engine.dispose()


# the lease, on both backends


def test_a_held_lease_names_its_holder_and_is_free_after_release(ledger_url):
    one, two = Ledger(ledger_url), Ledger(ledger_url)
    assert one.acquire("salesforce_to_autopilot:autopilot", TTL) is None
    assert one.acquire("salesforce_to_autopilot:autopilot", TTL) is None  # ours: renewed
    held = two.acquire("salesforce_to_autopilot:autopilot", TTL)
    assert held is not None and one.holder in held and "lease ends" in held
    assert two.acquire("autopilot_to_salesforce:autopilot", TTL) is None  # other direction
    assert one.renew("salesforce_to_autopilot:autopilot", TTL) is True
    assert two.renew("salesforce_to_autopilot:autopilot", TTL) is False
    one.release("salesforce_to_autopilot:autopilot")
    assert two.acquire("salesforce_to_autopilot:autopilot", TTL) is None
    one.close()
    two.close()


def test_an_ended_lease_is_taken_over(ledger_url):
    killed, next_run = Ledger(ledger_url), Ledger(ledger_url)
    assert killed.acquire("d:autopilot", timedelta(seconds=-1)) is None  # already ended
    assert next_run.acquire("d:autopilot", TTL) is None
    assert killed.acquire("d:autopilot", TTL) is not None
    killed.close()
    next_run.close()


def test_runs_asking_for_one_lease_at_once_get_it_once(ledger_url):
    Ledger(ledger_url).close()  # migrated before the race
    ledgers = [Ledger(ledger_url) for _ in range(6)]
    start = threading.Barrier(len(ledgers))
    answers: list[str | None] = []

    def ask(ledger: Ledger) -> None:
        start.wait()
        answers.append(ledger.acquire("d:autopilot", TTL))

    threads = [threading.Thread(target=ask, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ledger in ledgers:
        ledger.close()
    assert answers.count(None) == 1 and len(answers) == len(ledgers)


def test_a_run_whose_lease_was_taken_over_commits_nothing(postgres_url):
    # PostgreSQL only: on SQLite the deciding transaction's write lock keeps everyone out
    slow, other = Ledger(postgres_url), Ledger(postgres_url)
    assert slow.acquire("d:autopilot", timedelta(seconds=-1)) is None  # ends at once
    with pytest.raises(LeaseLost, match="nothing this run decided is kept"):
        with slow.transaction(lease="d:autopilot") as tx:
            tx.start_run("d", "salesforce", "autopilot")
            assert other.acquire("d:autopilot", TTL) is None  # it ended: taken over
    with other.transaction() as tx:
        assert tx.ever_ran() is False
    slow.close()
    other.close()


def test_lease_times_are_utc_whatever_the_servers_time_zone(postgres_url):
    from datetime import UTC, datetime

    engine = create_engine(postgres_url)
    with engine.begin() as c:
        name = c.execute(text("SELECT current_database()")).scalar_one()
        c.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'Pacific/Kiritimati'"))
    engine.dispose()
    ledger = Ledger(postgres_url)  # new connections: UTC+14
    assert ledger.acquire("d:autopilot", TTL) is None
    with ledger.engine.connect() as c:
        assert c.execute(text("SHOW timezone")).scalar_one() == "Pacific/Kiritimati"
        acquired = c.execute(text("SELECT acquired_at FROM ledger_leases")).scalar_one()
    ledger.close()
    assert acquired.endswith("Z")
    moment = datetime.fromisoformat(acquired.replace("Z", "+00:00"))
    assert abs((moment - datetime.now(UTC)).total_seconds()) < 3600  # not 14 hours off


def test_a_sqlite_ledger_copied_to_postgresql_keeps_every_person_and_decision(
        tmp_path, postgres_url, capsys):
    import shutil
    from pathlib import Path

    from consent_mapper.ledger_cli import main as ledger_cli

    path = tmp_path / "ledger.db"
    shutil.copy(Path(__file__).parent / "fixtures" / "ledger-0.1.db", path)
    sqlite_url = f"sqlite:///{path}"
    assert ledger_cli(["--ledger-url", sqlite_url, "copy", "--to", postgres_url]) == 0
    assert "set ledger_url to the new ledger" in capsys.readouterr().out
    for asked in (["history", "bob@x.io"], ["pending"], ["last-run"]):
        ledger_cli(["--ledger-url", sqlite_url, *asked])
        before = capsys.readouterr().out
        ledger_cli(["--ledger-url", postgres_url, *asked])
        assert capsys.readouterr().out == before
    ledger = Ledger(postgres_url)
    old = Ledger(sqlite_url)
    with ledger.transaction(commit=False) as tx, old.transaction(commit=False) as was:
        for email in ("ada@x.io", "bob@x.io", "gone@x.io"):
            assert tx.person(email) == was.person(email)
            assert tx.history(email) == was.history(email)
        assert tx.last_runs() == was.last_runs()
        newest = max(r["id"] for r in was.last_runs())
        assert tx.start_run("d", "salesforce", "autopilot") > newest  # ids go on
    old.close()
    ledger.close()
    # a second copy would mix two ledgers
    assert ledger_cli(["--ledger-url", sqlite_url, "copy", "--to", postgres_url]) == 2
    assert "already has rows" in capsys.readouterr().err
