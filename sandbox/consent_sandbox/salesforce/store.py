"""The SQLite store behind the stand-in: one table per sObject plus the org's own bookkeeping."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .schema import (
    CUSTOM_FIELD_TYPES,
    INTEGRATION_USER_ID,
    OBJECTS,
    WRITABLE_OBJECTS,
    FieldDef,
    ObjectDef,
    now_stamp,
)

HIDDEN, READ_ONLY, VISIBLE = "hidden", "read_only", "visible"
EMAIL_INDEXES = {"Lead": "Email", "Contact": "Email", "Account": "PersonEmail"}

META_SCHEMA = """
CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS _fls (object TEXT, field TEXT, access TEXT, PRIMARY KEY(object, field));
CREATE TABLE IF NOT EXISTS _custom_fields (object TEXT, name TEXT, type TEXT,
                                           external_id INTEGER NOT NULL DEFAULT 0,
                                           PRIMARY KEY(object, name));
CREATE TABLE IF NOT EXISTS _sessions (token TEXT PRIMARY KEY, issued REAL);
CREATE TABLE IF NOT EXISTS _cursors (id TEXT PRIMARY KEY, soql TEXT, include_deleted INTEGER,
                                     batch_size INTEGER, rowids BLOB, created REAL);
"""


def fold(value: object) -> object:
    """Salesforce compares text case-insensitively, beyond ASCII too (MÜNCHEN = münchen)."""
    return value.lower() if isinstance(value, str) else value


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.create_function("sf_fold", 1, fold, deterministic=True)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class Store:
    """Tables, schema (standard plus custom fields), field-level security and counters."""

    def __init__(self, path: Path):
        self.db = connect(path)
        self.db.executescript(META_SCHEMA)
        self._add_missing_columns("_custom_fields", {"external_id": "INTEGER NOT NULL DEFAULT 0",
                                                     "calculated": "INTEGER NOT NULL DEFAULT 0"})
        self.objects: dict[str, ObjectDef] = {}
        self.fls: dict[tuple[str, str], str] = {}
        self._reload_schema()
        for name in OBJECTS:
            self._create_table(self.objects[name])
        self._seed_user()

    # --- schema --------------------------------------------------------------------------

    def _reload_schema(self) -> None:
        custom: dict[str, list[FieldDef]] = {}
        rows = self.db.execute("SELECT object, name, type, external_id, calculated "
                               "FROM _custom_fields")
        for obj, name, kind, external, calculated in rows:
            label = name[:-3].replace("_", " ")
            # a formula: describe says calculated, and the API can neither create nor update it
            formula = {"calculated": True, "createable": False, "updateable": False} \
                if calculated else {}
            custom.setdefault(obj, []).append(
                FieldDef(name, CUSTOM_FIELD_TYPES[kind], label, custom=True, length=255,
                         external_id=bool(external), **formula))
        self.objects = {n: o.with_fields(custom.get(n, [])) for n, o in OBJECTS.items()}
        self.fls = {(o, f): a for o, f, a in self.db.execute("SELECT * FROM _fls")}
        self._visible: dict[str, dict[str, FieldDef]] = {}

    def _create_table(self, obj: ObjectDef) -> None:
        columns = ", ".join(
            f"{quote(f.name)} {f.sql_type}" + (" PRIMARY KEY" if f.name == "Id" else "")
            for f in obj.fields
        )
        table = quote(obj.name)
        self.db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        # stores written before a standard field was added get the column
        self._add_missing_columns(obj.name, {f.name: f.sql_type for f in obj.fields})
        if obj.name in WRITABLE_OBJECTS:
            self.db.execute(f"CREATE INDEX IF NOT EXISTS {quote(obj.name + '_modstamp')} "
                            f"ON {table} (SystemModstamp)")
            email = EMAIL_INDEXES.get(obj.name)  # a Task has no address
            if email is not None:
                self.db.execute(f"CREATE INDEX IF NOT EXISTS {quote(obj.name + '_email')} "
                                f"ON {table} (sf_fold({quote(email)}))")
            for field in obj.fields:
                if field.external_id:
                    self._index_external_id(obj.name, field.name)

    def _index_external_id(self, obj: str, name: str) -> None:
        """Upserts look records up by their key, compared the way Salesforce compares text."""
        self.db.execute(f"CREATE INDEX IF NOT EXISTS {quote(obj + '_' + name)} "
                        f"ON {quote(obj)} (sf_fold({quote(name)}))")

    def _add_missing_columns(self, table: str, columns: dict[str, str]) -> None:
        have = {row[1].lower() for row in self.db.execute(f"PRAGMA table_info({quote(table)})")}
        for name, sql_type in columns.items():
            if name.lower() not in have:
                self.db.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} {sql_type}")

    def _seed_user(self) -> None:
        self.db.execute(
            'INSERT OR IGNORE INTO "User" (Id, Name, Username, Email, IsActive, SystemModstamp) '
            "VALUES (?, 'Integration User', 'integration@sandbox.example', "
            "'integration@sandbox.example', 1, ?)", (INTEGRATION_USER_ID, now_stamp()))

    def add_custom_field(self, obj: str, name: str, kind: str, external_id: bool = False,
                         calculated: bool = False) -> None:
        field = FieldDef(name, CUSTOM_FIELD_TYPES[kind], name, custom=True)
        with self.transaction():
            self.db.execute("INSERT INTO _custom_fields (object, name, type, external_id, "
                            "calculated) VALUES (?, ?, ?, ?, ?)",
                            (obj, name, kind, int(external_id), int(calculated)))
            self.db.execute(f"ALTER TABLE {quote(obj)} ADD COLUMN {quote(name)} {field.sql_type}")
            if external_id:
                self._index_external_id(obj, name)
        self._reload_schema()

    def set_fls(self, obj: str, field: str, access: str) -> None:
        with self.transaction():
            if access == VISIBLE:
                self.db.execute("DELETE FROM _fls WHERE object = ? AND field = ?", (obj, field))
            else:
                self.db.execute("INSERT OR REPLACE INTO _fls VALUES (?, ?, ?)",
                                (obj, field, access))
        self._reload_schema()

    def reset(self) -> None:
        """Empty every object, forget custom fields, FLS, cursors and usage; keep sessions."""
        with self.transaction():
            for name in OBJECTS:
                self.db.execute(f"DROP TABLE IF EXISTS {quote(name)}")
            for table in ("_fls", "_custom_fields", "_cursors"):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("DELETE FROM _meta WHERE key != 'seq'")  # Ids are never reused
            self._reload_schema()
            for name in OBJECTS:
                self._create_table(self.objects[name])
            self._seed_user()

    # --- what the API user sees -------------------------------------------------------------

    def access(self, obj: str, field: str) -> str:
        return self.fls.get((obj, field), VISIBLE)

    def visible_fields(self, obj: str) -> dict[str, FieldDef]:
        """Fields by lower-cased name; FLS-hidden ones are simply not there. Do not mutate."""
        if obj not in self._visible:
            self._visible[obj] = {f.name.lower(): f for f in self.objects[obj].fields
                                  if self.access(obj, f.name) != HIDDEN}
        return self._visible[obj]

    def object_named(self, name: str) -> ObjectDef | None:
        for obj in self.objects.values():
            if obj.name.lower() == name.lower():
                return obj
        return None

    # --- bookkeeping ------------------------------------------------------------------------

    def meta(self, key: str, default: int = 0) -> int:
        row = self.db.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else default

    def set_meta(self, key: str, value: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO _meta VALUES (?, ?)", (key, value))

    def next_numbers(self, count: int) -> range:
        """Fresh numbers for Ids, unique across objects and restarts."""
        start = self.meta("seq", 1)
        self.set_meta("seq", start + count)
        return range(start, start + count)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self.db.execute("SAVEPOINT rec")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK TO rec")
            self.db.execute("RELEASE rec")
            raise
        self.db.execute("RELEASE rec")
