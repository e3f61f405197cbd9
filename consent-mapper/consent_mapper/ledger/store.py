"""The ledger's database: opened by URL, migrated on open, read and written in one transaction.

SQLite (a file inside the Meltano project's `.meltano/` folder) by default; any SQLAlchemy URL
works, PostgreSQL for teams that run Meltano on several machines. Writes are batched per chunk of
people (one multi-row statement per table), not one statement per person.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Connection,
    and_,
    case,
    create_engine,
    event,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from consent_mapper import clock
from consent_mapper.ledger.schema import audit, leases, people, records, runs
from consent_mapper.ledger.upsert_dialects import upsert_insert
from consent_mapper.rules import (
    BY_EMAIL,
    CRM,
    PLATFORM,
    AuditEvent,
    PersonMemory,
    RecordKey,
    RecordMemory,
)

MIGRATIONS = Path(__file__).parent / "migrations"
# the newest migration: a ledger already there is opened without loading alembic (a third of a
# quiet run's start-up); test_ledger_store checks it against the migrations folder
HEAD_REVISION = "0009"
CHUNK = 500  # keys per IN (...) query: well under SQLite's bound-parameter limit
RECORD_COLUMNS = ("email", "role", "observed", "observed_at", "pending", "pending_at",
                  "prior_at", "pending_run", "live", "selected", "writable", "native_id",
                  "platform_state", "exit_read", "deleted_run", "updated_at")
PEOPLE_COLUMNS = ("agreed", "opted_out_at", "profile_hash", "profile_confirmed",
                  "lists_confirmed", "withheld_profile", "updated_at")
# PostgreSQL advisory lock key of the ledger's migrations (there may be no table to lock yet)
MIGRATION_LOCK = 0x636F6E73656E74  # "consent"


def now_iso() -> str:
    return clock.now_iso()


def open_engine(url: str) -> Engine:
    """An engine for ``url``, its schema migrated to the newest revision."""
    parsed = make_url(url)
    sqlite_file = (parsed.get_backend_name() == "sqlite"
                   and parsed.database not in (None, "", ":memory:"))
    if sqlite_file:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # a server connection may idle through a long wait for the lease: checked before reuse
    engine = create_engine(url, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if sqlite_file:  # (an in-memory database lives in one connection: migrated below)
        with engine.connect() as connection:
            current = _revision(connection)
        if current != HEAD_REVISION:
            _migrate_sqlite(url)
        return engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # two machines opening a new ledger at once: the second waits and finds it migrated
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK})
        if _revision(connection) != HEAD_REVISION:
            _upgrade(connection)
    return engine


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _migrate_sqlite(url: str) -> None:
    """Migrate a SQLite ledger in one transaction: all of it or nothing.

    pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so alembic's CREATE TABLEs
    would each commit on their own: a run killed mid-migration left tables with no revision
    stamped, and every later run failed on "table already exists". Here the driver's own
    transaction handling is off and the migration runs inside one BEGIN IMMEDIATE, which also
    makes a second process opening a new ledger at once wait, then find it migrated.
    """
    migrator = create_engine(url, poolclass=NullPool)
    event.listen(migrator, "connect", _sqlite_own_transactions)
    event.listen(migrator, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    try:
        with migrator.begin() as connection:
            if _revision(connection) != HEAD_REVISION:
                _upgrade(connection)
    finally:
        migrator.dispose()


def _revision(connection: Connection) -> str | None:
    from sqlalchemy import inspect

    if not inspect(connection).has_table("ledger_alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM ledger_alembic_version")).scalar()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the history command) never block a run
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_own_transactions(dbapi_connection: object, record: object) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]


class LeaseHeld(RuntimeError):
    """Another live run of the same direction holds the ledger."""


class LeaseLost(RuntimeError):
    """The lease this run decided under was taken over (it expired): nothing is committed."""


class Ledger:
    def __init__(self, url: str) -> None:
        self.engine = open_engine(url)
        # named to a waiting run; the token tells apart containers with the same host and pid
        self.holder = f"{socket.gethostname()} pid {os.getpid()} ({secrets.token_hex(3)})"

    @contextmanager
    def transaction(self, commit: bool = True,
                    lease: str | None = None) -> Iterator[LedgerTransaction]:
        """One transaction; rolled back on error, or always when ``commit`` is false (dry run).

        With ``lease``, it commits only while this ledger still holds that lease: a run whose
        lease expired and was taken by another run rolls back (:class:`LeaseLost`).
        """
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                yield LedgerTransaction(connection)
                if commit and lease is not None:
                    self._still_held(connection, lease)
            except BaseException:
                transaction.rollback()
                raise
            if commit:
                transaction.commit()
            else:
                transaction.rollback()

    def acquire(self, name: str, ttl: timedelta) -> str | None:
        """Take the lease ``name`` for ``ttl``; None when taken, else who holds it until when.

        One statement decides (INSERT ... ON CONFLICT DO UPDATE ... WHERE free or ours): two
        runs asking at once never both get it. A run killed with its lease expires with it: the
        next run never needs a manual unlock. Times come from the database server's clock where
        there is one, so machines whose clocks differ agree on when a lease ends.
        """
        with self.engine.begin() as c:
            now = _db_now(c)
            values = {"name": name, "holder": self.holder, "acquired_at": _iso(now),
                      "expires_at": _iso(now + ttl)}
            if not _take_lease(c, values):
                row = c.execute(select(leases).where(leases.c.name == name)).first()
                if row is None:  # released between the two statements: ask again
                    return self.acquire(name, ttl)
                return f"{row.holder} since {row.acquired_at} (lease ends {row.expires_at})"
        return None

    def renew(self, name: str, ttl: timedelta) -> bool:
        """Move the lease's end; False when it is no longer this ledger's."""
        with self.engine.begin() as c:
            done = c.execute(leases.update().where(leases.c.name == name,
                                                   leases.c.holder == self.holder)
                             .values(expires_at=_iso(_db_now(c) + ttl)))
        return done.rowcount == 1

    def release(self, name: str) -> None:
        with self.engine.begin() as c:
            c.execute(leases.delete().where(leases.c.name == name,
                                            leases.c.holder == self.holder))

    def _still_held(self, c: Connection, name: str) -> None:
        # the row stays locked to the commit (PostgreSQL): nobody takes the lease in between
        row = c.execute(select(leases.c.holder).where(leases.c.name == name)
                        .with_for_update()).first()
        if row is None or row.holder != self.holder:
            raise LeaseLost(
                f"this run's lease {name} on the consent ledger ended (not renewed for "
                f"longer than it lasts) and {row.holder if row else 'nobody'} holds it now: "
                f"nothing this run decided is kept, and the next run decides again")

    def close(self) -> None:
        self.engine.dispose()


class LedgerTransaction:
    def __init__(self, connection: Connection) -> None:
        self.c = connection
        # records asked for by key and found filed under another address (the email was edited)
        self.elsewhere: dict[RecordKey, tuple[str, RecordMemory]] = {}
        self._people: list[dict] = []
        self._records: list[dict] = []
        self._gone: list[RecordKey] = []
        self._stamp: str | None = None
        self._audit: list[dict] = []

    # runs

    def exclusive(self) -> bool:
        """Make this the only deciding transaction on the ledger; True when it had to wait.

        Runs of both directions read and write the same people. SQLite's write lock serializes
        them; on PostgreSQL two would each write back what they had read before the other
        committed (a lost update), so the first statement of a deciding transaction locks the
        runs table against other deciding transactions (plain reads go on).
        """
        if self.c.dialect.name != "postgresql":
            return False
        try:
            with self.c.begin_nested():
                self.c.execute(text("LOCK TABLE ledger_runs IN EXCLUSIVE MODE NOWAIT"))
            return False
        except OperationalError:  # lock_not_available: another run is deciding
            self.c.execute(text("LOCK TABLE ledger_runs IN EXCLUSIVE MODE"))
            return True

    def start_run(self, direction: str, source_system: str, platform: str) -> int:
        result = self.c.execute(runs.insert().values(
            direction=direction, source_system=source_system, platform=platform,
            started_at=now_iso()))
        return int(result.inserted_primary_key[0])

    def finish_run(self, run_id: int, summary: dict) -> None:
        self.flush()
        self.c.execute(runs.update().where(runs.c.id == run_id).values(
            finished_at=now_iso(), summary=json.dumps(summary, sort_keys=True)))

    def reads_of(self, system: str) -> int:
        """Finished runs that read ``system``: the clock of R7's retry window."""
        query = select(func.count()).select_from(runs).where(
            runs.c.source_system == system, runs.c.finished_at.is_not(None))
        return int(self.c.execute(query).scalar_one())

    def ever_ran(self) -> bool:
        return self.c.execute(select(runs.c.id).limit(1)).first() is not None

    # people and records

    def load(self, emails: Iterable[str],
             keys: Iterable[RecordKey] = ()) -> dict[str, PersonMemory]:
        """The memory of ``emails``, plus the records of ``keys`` wherever they were filed."""
        emails = list(dict.fromkeys(emails))
        found: dict[str, PersonMemory] = {e: PersonMemory(e) for e in emails}
        for chunk in _chunks(emails):
            for row in self.c.execute(select(people).where(people.c.email.in_(chunk))):
                memory = found[row.email]
                memory.agreed, memory.opted_out_at = row.agreed, row.opted_out_at
                memory.profile_hash = row.profile_hash
                memory.profile_confirmed = bool(row.profile_confirmed)
                memory.lists_confirmed = bool(row.lists_confirmed)
                memory.withheld_profile = row.withheld_profile
            for row in self.c.execute(select(records).where(records.c.email.in_(chunk))):
                found[row.email].records[_key(row)] = _memory(row)
        loaded = {k for m in found.values() for k in m.records}
        for (system, obj), ids in _by_kind(k for k in dict.fromkeys(keys) if k not in loaded):
            for chunk in _chunks(ids):
                # a prefix of the primary key and an IN on its last column: an index lookup
                # per id (a row-value IN list was a scan of the table per chunk)
                query = select(records).where(records.c.system == system,
                                              records.c.object == obj,
                                              records.c.record_id.in_(chunk))
                for row in self.c.execute(query):
                    self.elsewhere[_key(row)] = (row.email, _memory(row))
        return found

    def email_of(self, key: RecordKey) -> str | None:
        query = select(records.c.email).where(
            records.c.system == key.system, records.c.object == key.object,
            records.c.record_id == key.record_id)
        row = self.c.execute(query).first()
        return row.email if row else None

    def attention(self, target_role: str, target_system: str, reads: int,
                  retry_after_runs: int, crm_read_run: bool) -> set[str]:
        """People whose records need a decision though the source brought nothing of them.

        A target record that disagrees with the agreed state (born after the agreement, R4), a
        pending write that a read of the target system did not see back (R7), a platform
        contact whose removal waited until a read showed its consent (R8) or whose profile was
        held back (R4), and in a CRM read, every write by address (it ends when the CRM is
        read).
        """
        disagree = and_(records.c.pending.is_(None), people.c.agreed.is_not(None), or_(
            and_(records.c.observed.is_not(None), records.c.observed != people.c.agreed),
            and_(records.c.observed.is_(None), people.c.agreed.is_(True)),
        ))
        lost = and_(records.c.pending.is_not(None), records.c.object != BY_EMAIL,
                    records.c.pending_run <= reads - retry_after_runs)
        in_target = and_(records.c.role == target_role, records.c.live.is_(True),
                         records.c.writable.is_(True), or_(disagree, lost))
        if target_role == PLATFORM:
            # a removal under on_exit=remove that waited for the contact to be read, and for
            # a read of the platform to finish after the exit (R8)
            waiting = and_(records.c.selected.is_(False),
                           or_(records.c.observed.is_not(None), records.c.native_id.is_not(None)),
                           or_(records.c.exit_read.is_(None), records.c.exit_read < reads))
            # a held re-subscribe (R4) to a contact that a read finished since did not show
            unseen = and_(records.c.pending.is_(None), records.c.observed.is_(None),
                          records.c.observed_at.is_not(None),
                          records.c.pending_run <= reads - retry_after_runs)
            # a deletion not yet known written (R7, R8)
            unwritten = and_(records.c.live.is_(False), records.c.deleted_run.is_not(None))
            in_target = and_(records.c.system == target_system, or_(in_target, and_(
                records.c.role == PLATFORM, or_(and_(records.c.live.is_(True),
                                                     or_(waiting, unseen)), unwritten))))
        wanted = or_(in_target, records.c.object == BY_EMAIL) if crm_read_run else in_target
        query = (select(records.c.email).distinct()
                 .join(people, people.c.email == records.c.email).where(wanted))
        found = {row.email for row in self.c.execute(query)}
        if target_role == PLATFORM:
            # a profile held back from a contact whose re-subscribe waits for its first read
            held = select(people.c.email).where(people.c.withheld_profile.is_not(None))
            found.update(row.email for row in self.c.execute(held))
        return found

    def save(self, memory: PersonMemory, before: PersonMemory | None = None) -> None:
        """Queue one person's memory; only what changed since ``before`` is written."""
        stamp = self._chunk_stamp()
        state = _people_state(memory)
        if before is None or state != _people_state(before):
            self._people.append({"email": memory.email, **dict(zip(PEOPLE_COLUMNS[:-1], state,
                                                                   strict=True)),
                                 "updated_at": stamp})
        old = before.records if before else {}
        for key, record in memory.records.items():
            if old.get(key) == record and key not in self.elsewhere:
                continue
            self._records.append({
                "system": key.system, "object": key.object, "record_id": key.record_id,
                "email": memory.email, "role": key.role, "observed": record.observed,
                "observed_at": record.observed_at, "pending": record.pending,
                "pending_at": record.pending_at, "prior_at": record.prior_at,
                "pending_run": record.pending_run, "live": record.live,
                "selected": record.selected, "writable": record.writable,
                "native_id": record.native_id, "platform_state": record.platform_state,
                "exit_read": record.exit_read, "deleted_run": record.deleted_run,
                "updated_at": stamp})
        self._gone.extend(set(old) - set(memory.records))

    def _chunk_stamp(self) -> str:
        """One clock reading per chunk of people (reading the clock per person was 3% of a
        first load's mapper CPU); :meth:`flush` starts the next."""
        if self._stamp is None:
            self._stamp = now_iso()
        return self._stamp

    def audit(self, run_id: int, email: str, events: Iterable[AuditEvent]) -> None:
        at = self._chunk_stamp()
        self._audit.extend({
            "run_id": run_id, "at": at, "email": email, "rule": e.rule, "old": e.old,
            "new": e.new, "source": str(e.source) if e.source else None,
            "targets": "\n".join(str(k) for k in e.targets) or None, "detail": e.detail,
        } for e in events)

    def flush(self) -> None:
        """Write what :meth:`save` and :meth:`audit` queued: a few statements per chunk."""
        if self._people:
            self._upsert(people, ("email",), PEOPLE_COLUMNS, self._people)
        for (system, obj), ids in _by_kind(self._gone):
            for chunk in _chunks(ids):
                self.c.execute(records.delete().where(records.c.system == system,
                                                      records.c.object == obj,
                                                      records.c.record_id.in_(chunk)))
        if self._records:
            self._upsert(records, ("system", "object", "record_id"), RECORD_COLUMNS,
                         self._records)
        if self._audit:
            self.c.execute(audit.insert(), self._audit)
        self._people, self._records, self._gone, self._audit = [], [], [], []
        self._stamp = None

    def _upsert(self, table: object, keys: tuple[str, ...], columns: tuple[str, ...],
                rows: list[dict]) -> None:
        dialect = self.c.dialect.name
        insert = upsert_insert(dialect)
        if insert is None:  # any other database: one statement per row, still correct
            for row in rows:
                where = and_(*(table.c[k] == row[k] for k in keys))  # type: ignore[attr-defined]
                done = self.c.execute(table.update().where(where).values(  # type: ignore
                    **{c: row[c] for c in columns}))
                if done.rowcount == 0:
                    self.c.execute(table.insert().values(**row))  # type: ignore[attr-defined]
            return
        latest = {tuple(row[k] for k in keys): row for row in rows}  # one row per key
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in columns})
        self.c.execute(statement, list(latest.values()))

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

    def last_runs(self) -> list[dict]:
        """The last finished run of each direction and platform."""
        newest = (select(func.max(runs.c.id)).where(runs.c.finished_at.is_not(None))
                  .group_by(runs.c.direction, runs.c.platform))
        query = select(runs).where(runs.c.id.in_(newest)).order_by(runs.c.id)
        return [dict(row._mapping) for row in self.c.execute(query)]


def _take_lease(c: Connection, values: dict) -> bool:
    """Insert the lease, or take it over when it is ours or has ended; False when held."""
    dialect = c.dialect.name
    insert = upsert_insert(dialect)
    if insert is None:  # any other database: read, then a guarded write
        row = c.execute(select(leases).where(leases.c.name == values["name"])).first()
        if row is None:
            try:
                with c.begin_nested():
                    c.execute(leases.insert().values(**values))
                return True
            except IntegrityError:
                return False
        if row.holder != values["holder"] and row.expires_at > values["acquired_at"]:
            return False
        done = c.execute(leases.update().where(
            leases.c.name == values["name"], leases.c.holder == row.holder,
            leases.c.expires_at == row.expires_at).values(**values))
        return done.rowcount == 1
    statement = insert(leases).values(**values)
    new = statement.excluded
    # ISO-8601 strings of one format order as the times do, compared byte by byte: PostgreSQL
    # databases often collate text by a language's rules, hence "C"
    ends = leases.c.expires_at if dialect == "sqlite" else leases.c.expires_at.collate("C")
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": new.holder, "expires_at": new.expires_at,
              "acquired_at": case((leases.c.holder == new.holder, leases.c.acquired_at),
                                  else_=new.acquired_at)},
        where=or_(leases.c.holder == new.holder, ends <= new.acquired_at))
    # a row comes back when inserted or taken over, none when the WHERE kept the holder's
    return c.execute(statement.returning(leases.c.holder)).first() is not None


def _db_now(c: Connection) -> datetime:
    """Now by the database server's clock (PostgreSQL), else by this machine's."""
    if c.dialect.name == "postgresql":
        moment = c.execute(select(literal_column("statement_timestamp()"))).scalar_one()
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _by_kind(keys: Iterable[RecordKey]) -> list[tuple[tuple[str, str], list[str]]]:
    """Record ids grouped by (system, object), the leading columns of the primary key."""
    groups: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        groups.setdefault((key.system, key.object), []).append(key.record_id)
    return sorted(groups.items())


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _key(row: object) -> RecordKey:
    r = row  # a SQLAlchemy Row
    return RecordKey(r.role, r.system, r.object, r.record_id)  # type: ignore[attr-defined]


def _people_state(memory: PersonMemory) -> tuple:
    return (memory.agreed, memory.opted_out_at, memory.profile_hash, memory.profile_confirmed,
            memory.lists_confirmed, memory.withheld_profile)


def _memory(row: object) -> RecordMemory:
    r = row  # a SQLAlchemy Row
    return RecordMemory(  # type: ignore[attr-defined]
        _key(r), r.observed, r.observed_at, r.pending, r.pending_at,  # type: ignore
        r.prior_at, r.pending_run, bool(r.live), bool(r.selected),  # type: ignore
        bool(r.writable), r.native_id, r.platform_state,  # type: ignore[attr-defined]
        r.exit_read, r.deleted_run)  # type: ignore[attr-defined]


__all__ = ["CRM", "PLATFORM", "Ledger", "LedgerTransaction", "LeaseHeld", "LeaseLost",
           "now_iso"]
