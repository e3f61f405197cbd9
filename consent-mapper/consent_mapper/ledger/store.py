"""The ledger's database: opened by URL, migrated on open, read and written in one transaction.

SQLite (a file inside the Meltano project's `.meltano/` folder) by default; any SQLAlchemy URL
works, PostgreSQL for teams that run Meltano on several machines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, and_, create_engine, event, func, or_, select, tuple_
from sqlalchemy.engine import Engine, make_url

from consent_mapper.ledger.engine import BY_EMAIL, AuditEvent, RecordKey, RecordMemory
from consent_mapper.ledger.schema import audit, people, records, runs

MIGRATIONS = Path(__file__).parent / "migrations"
CHUNK = 500  # keys per IN (...) query: well under SQLite's bound-parameter limit


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class PersonMemory:
    """Everything the ledger holds about one address, as loaded for a decision."""

    email: str
    agreed: bool | None = None
    opted_out_at: str | None = None
    profile_hash: str | None = None
    profile_confirmed: bool = False
    records: dict[RecordKey, RecordMemory] = field(default_factory=dict)


def open_engine(url: str) -> Engine:
    """An engine for ``url``, its schema migrated to the newest revision."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the history command) never block a run
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Ledger:
    def __init__(self, url: str) -> None:
        self.engine = open_engine(url)

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[LedgerTransaction]:
        """One transaction; rolled back on error, or always when ``commit`` is false (dry run)."""
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                yield LedgerTransaction(connection)
            except BaseException:
                transaction.rollback()
                raise
            if commit:
                transaction.commit()
            else:
                transaction.rollback()

    def close(self) -> None:
        self.engine.dispose()


class LedgerTransaction:
    def __init__(self, connection: Connection) -> None:
        self.c = connection
        # records asked for by key and found filed under another address (the email was edited)
        self.elsewhere: dict[RecordKey, RecordMemory] = {}

    # runs

    def start_run(self, direction: str, source_system: str) -> int:
        result = self.c.execute(runs.insert().values(
            direction=direction, source_system=source_system, started_at=now_iso()))
        return int(result.inserted_primary_key[0])

    def finish_run(self, run_id: int, summary: dict) -> None:
        self.c.execute(runs.update().where(runs.c.id == run_id).values(
            finished_at=now_iso(), summary=json.dumps(summary, sort_keys=True)))

    def reads_of(self, system: str) -> int:
        """Finished runs that read ``system``: the clock of R7's retry window."""
        query = select(func.count()).select_from(runs).where(
            runs.c.source_system == system, runs.c.finished_at.is_not(None))
        return int(self.c.execute(query).scalar_one())

    # people and records

    def load(self, emails: Iterable[str],
             keys: Iterable[RecordKey] = ()) -> dict[str, PersonMemory]:
        """The memory of ``emails``, plus the records of ``keys`` wherever they were filed.

        A record found under another address (its email was edited) moves to the address it now
        has when it is saved again.
        """
        emails = list(dict.fromkeys(emails))
        found: dict[str, PersonMemory] = {e: PersonMemory(e) for e in emails}
        for chunk in _chunks(emails):
            for row in self.c.execute(select(people).where(people.c.email.in_(chunk))):
                memory = found[row.email]
                memory.agreed, memory.opted_out_at = row.agreed, row.opted_out_at
                memory.profile_hash = row.profile_hash
                memory.profile_confirmed = bool(row.profile_confirmed)
            for row in self.c.execute(select(records).where(records.c.email.in_(chunk))):
                found[row.email].records[_key(row)] = _memory(row)
        loaded = {k for m in found.values() for k in m.records}
        wanted = [k for k in dict.fromkeys(keys) if k not in loaded]
        columns = tuple_(records.c.system, records.c.object, records.c.record_id)
        for chunk in _chunks(wanted):
            values = [(k.system, k.object, k.record_id) for k in chunk]
            for row in self.c.execute(select(records).where(columns.in_(values))):
                self.elsewhere[_key(row)] = _memory(row)
        return found

    def email_of(self, key: RecordKey) -> str | None:
        query = select(records.c.email).where(
            records.c.system == key.system, records.c.object == key.object,
            records.c.record_id == key.record_id)
        row = self.c.execute(query).first()
        return row.email if row else None

    def attention(self, target_system: str, reads: int, retry_after_runs: int) -> set[str]:
        """People whose records in ``target_system`` need a write though the source said nothing.

        A record that disagrees with the agreed state (born after the agreement, R4), and a
        pending write that reads of the target system did not see back (R7).
        """
        disagree = and_(records.c.pending.is_(None), people.c.agreed.is_not(None), or_(
            and_(records.c.observed.is_not(None), records.c.observed != people.c.agreed),
            and_(records.c.observed.is_(None), people.c.agreed.is_(True)),
        ))
        lost = and_(records.c.pending.is_not(None), records.c.object != BY_EMAIL,
                    records.c.pending_run <= reads - retry_after_runs)
        query = (select(records.c.email).distinct()
                 .join(people, people.c.email == records.c.email)
                 .where(records.c.system == target_system, records.c.live.is_(True),
                        records.c.writable.is_(True), or_(disagree, lost)))
        return {row.email for row in self.c.execute(query)}

    def save(self, memory: PersonMemory, before: PersonMemory | None = None) -> None:
        """Write one person's memory back; only what changed since ``before`` is touched."""
        stamp = now_iso()
        state = (memory.agreed, memory.opted_out_at, memory.profile_hash,
                 memory.profile_confirmed)
        if before is None or state != (before.agreed, before.opted_out_at, before.profile_hash,
                                       before.profile_confirmed):
            values = {"agreed": memory.agreed, "opted_out_at": memory.opted_out_at,
                      "profile_hash": memory.profile_hash,
                      "profile_confirmed": memory.profile_confirmed, "updated_at": stamp}
            done = self.c.execute(people.update().where(people.c.email == memory.email)
                                  .values(**values))
            if done.rowcount == 0:
                self.c.execute(people.insert().values(email=memory.email, **values))
        old = before.records if before else {}
        for key, record in memory.records.items():
            if old.get(key) == record and key not in self.elsewhere:
                continue
            values = {"email": memory.email, "observed": record.observed,
                      "pending": record.pending, "pending_run": record.pending_run,
                      "live": record.live, "writable": record.writable, "updated_at": stamp}
            where = and_(records.c.system == key.system, records.c.object == key.object,
                         records.c.record_id == key.record_id)
            done = self.c.execute(records.update().where(where).values(**values))
            if done.rowcount == 0:
                self.c.execute(records.insert().values(
                    system=key.system, object=key.object, record_id=key.record_id, **values))
        for key in set(old) - set(memory.records):
            self.c.execute(records.delete().where(and_(
                records.c.system == key.system, records.c.object == key.object,
                records.c.record_id == key.record_id)))

    def audit(self, run_id: int, email: str, events: Iterable[AuditEvent]) -> None:
        rows = [{
            "run_id": run_id, "at": now_iso(), "email": email, "rule": e.rule, "old": e.old,
            "new": e.new, "source": _label(e.source) if e.source else None,
            "targets": "\n".join(_label(k) for k in e.targets) or None, "detail": e.detail,
        } for e in events]
        if rows:
            self.c.execute(audit.insert(), rows)

    # reading back, for the history command

    def history(self, email: str) -> list[dict]:
        query = (select(audit, runs.c.direction).join(runs, runs.c.id == audit.c.run_id)
                 .where(audit.c.email == email).order_by(audit.c.id))
        return [dict(row._mapping) for row in self.c.execute(query)]

    def person(self, email: str) -> PersonMemory:
        return self.load([email])[email]

    def pending(self, limit: int = 1000) -> list[dict]:
        query = (select(records).where(records.c.pending.is_not(None))
                 .order_by(records.c.email).limit(limit))
        return [dict(row._mapping) for row in self.c.execute(query)]

    def last_runs(self, limit: int = 2) -> list[dict]:
        query = select(runs).where(runs.c.finished_at.is_not(None)).order_by(
            runs.c.id.desc()).limit(limit)
        return [dict(row._mapping) for row in self.c.execute(query)]


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _key(row: object) -> RecordKey:
    return RecordKey(row.system, row.object, row.record_id)  # type: ignore[attr-defined]


def _memory(row: object) -> RecordMemory:
    r = row  # a SQLAlchemy Row
    return RecordMemory(_key(r), r.observed, r.pending, r.pending_run,  # type: ignore[attr-defined]
                        bool(r.live), bool(r.writable))  # type: ignore[attr-defined]


def _label(key: RecordKey) -> str:
    return f"{key.system} {key.object} {key.record_id}"
