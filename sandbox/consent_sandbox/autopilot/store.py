"""Contacts, lists, custom field definitions and hooks in one SQLite file.

A contact is kept as the JSON document the API reads back (without `lists`, which come from the
membership table), next to the columns paging and look-ups need. Paging is keyset on `seq`, for
all contacts and for a list's members alike, so a page costs one index range whatever the size.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id TEXT NOT NULL,
    email_lower TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lists (list_id TEXT PRIMARY KEY, title TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS members (
    list_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (list_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_seq ON members (seq);
CREATE TABLE IF NOT EXISTS custom_fields (name TEXT PRIMARY KEY, field_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hooks (
    hook_id TEXT PRIMARY KEY, event TEXT NOT NULL, target_url TEXT NOT NULL
);
"""
CONTACT_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS contacts_id ON contacts (contact_id)",
    "CREATE INDEX IF NOT EXISTS contacts_email ON contacts (email_lower)",
)
PAGE = 100


def now_iso() -> str:
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def next_stamp(previous: object) -> str:
    """Now, but always later than ``previous``: a change must move `updated_at` even when it
    lands in the same millisecond as the one before (incremental readers rely on it)."""
    moment = datetime.now(UTC)
    if isinstance(previous, str) and previous.endswith("Z"):
        try:
            before = datetime.fromisoformat(previous.replace("Z", "+00:00"))
        except ValueError:
            return iso(moment)
        if before >= moment:
            moment = before + timedelta(milliseconds=1)
    return iso(moment)


def new_contact_id() -> str:
    return f"person_{str(uuid.uuid4()).upper()}"


def _email_key(doc: dict) -> str:
    return str(doc.get("Email") or "").strip().lower()


class Store:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()
        self.db.executescript(SCHEMA)
        for statement in CONTACT_INDEXES:
            self.db.execute(statement)
        self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._counts: dict[str | None, int] = {}  # COUNT(*) of 1M rows is too slow per page

    def _migrate(self) -> None:
        """Version 1 kept memberships by contact id; they are now keyed by `seq` for paging."""
        if self.db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        columns = [r[1] for r in self.db.execute("PRAGMA table_info(members)")]
        if "contact_id" in columns:
            self.db.executescript("""
                BEGIN;
                ALTER TABLE members RENAME TO members_v1;
                DROP INDEX IF EXISTS members_contact;
                CREATE TABLE members (
                    list_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (list_id, seq)
                ) WITHOUT ROWID;
                INSERT OR IGNORE INTO members SELECT m.list_id, c.seq
                    FROM members_v1 m JOIN contacts c ON c.contact_id = m.contact_id;
                DROP TABLE members_v1;
                COMMIT;
            """)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            self._counts.clear()
            raise
        self.db.execute("COMMIT")

    def reset(self) -> None:
        with self.transaction():
            for table in ("contacts", "lists", "members", "custom_fields", "hooks"):
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        self._counts.clear()

    def is_empty(self) -> bool:
        return self.db.execute("SELECT 1 FROM contacts LIMIT 1").fetchone() is None

    # contacts

    def find(self, id_or_email: str) -> list[dict]:
        """Every contact with that id or (case-blind) email, oldest first."""
        rows = self.db.execute(
            "SELECT doc FROM contacts WHERE contact_id = ? "
            "UNION SELECT doc FROM contacts WHERE email_lower = ?",
            (id_or_email, id_or_email.strip().lower())).fetchall()
        docs = [json.loads(r[0]) for r in rows]
        return sorted(docs, key=lambda d: self._seq(d["contact_id"])) if len(docs) > 1 else docs

    def _seq(self, contact_id: str) -> int:
        row = self.db.execute("SELECT seq FROM contacts WHERE contact_id = ?",
                              (contact_id,)).fetchone()
        if row is None:
            raise KeyError(contact_id)
        return row[0]

    def save(self, doc: dict) -> None:
        cursor = self.db.execute(
            "UPDATE contacts SET email_lower = ?, doc = ? WHERE contact_id = ?",
            (_email_key(doc), json.dumps(doc), doc["contact_id"]))
        if cursor.rowcount == 0:
            self.insert_many([doc])

    def insert_many(self, docs: Iterable[dict]) -> None:
        self.db.executemany(
            "INSERT INTO contacts (contact_id, email_lower, doc) VALUES (?, ?, ?)",
            ((d["contact_id"], _email_key(d), json.dumps(d)) for d in docs))
        self._counts.clear()

    def bulk_load(self, docs: Iterable[dict]) -> None:
        """Fill an empty store: indexes built once afterwards are far cheaper than a million
        random insertions into them."""
        with self.transaction():
            self.db.execute("DROP INDEX IF EXISTS contacts_id")
            self.db.execute("DROP INDEX IF EXISTS contacts_email")
            self.insert_many(docs)
            for statement in CONTACT_INDEXES:
                self.db.execute(statement)

    def delete(self, contact_ids: list[str]) -> None:
        for contact_id in contact_ids:
            row = self.db.execute("DELETE FROM contacts WHERE contact_id = ? RETURNING seq",
                                  (contact_id,)).fetchone()
            if row is not None:
                self.db.execute("DELETE FROM members WHERE seq = ?", (row[0],))
        self._counts.clear()

    def page(self, after: str | None, list_id: str | None = None) -> tuple[list[dict], bool]:
        """One page of contacts after the bookmark ``after``; True when more follow."""
        start = 0 if after is None else self._seq(after)
        if list_id is None:
            rows = self.db.execute("SELECT doc FROM contacts WHERE seq > ? ORDER BY seq LIMIT ?",
                                   (start, PAGE + 1)).fetchall()
        else:
            rows = self.db.execute(
                "SELECT c.doc FROM members m JOIN contacts c ON c.seq = m.seq "
                "WHERE m.list_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
                (list_id, start, PAGE + 1)).fetchall()
        docs = [json.loads(r[0]) for r in rows]
        return docs[:PAGE], len(docs) > PAGE

    def count(self, list_id: str | None = None) -> int:
        if list_id not in self._counts:
            if list_id is None:
                query, args = "SELECT COUNT(*) FROM contacts", ()
            else:
                query, args = "SELECT COUNT(*) FROM members WHERE list_id = ?", (list_id,)
            self._counts[list_id] = self.db.execute(query, args).fetchone()[0]
        return self._counts[list_id]

    def every(self) -> Iterator[dict]:
        """Every contact, oldest first, a thousand rows at a time."""
        start = 0
        while True:
            rows = self.db.execute(
                "SELECT seq, doc FROM contacts WHERE seq > ? ORDER BY seq LIMIT 1000",
                (start,)).fetchall()
            if not rows:
                return
            yield from (json.loads(doc) for _, doc in rows)
            start = rows[-1][0]

    def lists_of(self, contact_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {c: [] for c in contact_ids}
        for start in range(0, len(contact_ids), 500):
            chunk = contact_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for list_id, contact_id in self.db.execute(
                    "SELECT m.list_id, c.contact_id FROM contacts c "  # noqa: S608 - marks only
                    "JOIN members m ON m.seq = c.seq JOIN lists l ON l.list_id = m.list_id "
                    f"WHERE c.contact_id IN ({marks}) ORDER BY l.rowid", chunk):
                found[contact_id].append(list_id)
        return found

    # lists

    def lists(self) -> list[dict]:
        return [{"list_id": i, "title": t}
                for i, t in self.db.execute("SELECT list_id, title FROM lists ORDER BY rowid")]

    def list_by_title(self, title: str) -> str | None:
        row = self.db.execute("SELECT list_id FROM lists WHERE title = ?", (title,)).fetchone()
        return row[0] if row else None

    def list_exists(self, list_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM lists WHERE list_id = ?",
                               (list_id,)).fetchone() is not None

    def create_list(self, title: str) -> str:
        list_id = f"contactlist_{uuid.uuid4().hex[:24]}"
        self.db.execute("INSERT INTO lists (list_id, title) VALUES (?, ?)", (list_id, title))
        return list_id

    def add_member(self, list_id: str, contact_id: str) -> bool:
        cursor = self.db.execute("INSERT OR IGNORE INTO members (list_id, seq) VALUES (?, ?)",
                                 (list_id, self._seq(contact_id)))
        self._counts.pop(list_id, None)
        return cursor.rowcount > 0

    def remove_member(self, list_id: str, contact_id: str) -> bool:
        cursor = self.db.execute("DELETE FROM members WHERE list_id = ? AND seq = ?",
                                 (list_id, self._seq(contact_id)))
        self._counts.pop(list_id, None)
        return cursor.rowcount > 0

    def is_member(self, list_id: str, contact_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM members WHERE list_id = ? AND seq = ?",
                               (list_id, self._seq(contact_id))).fetchone() is not None

    # custom fields

    def custom_fields(self) -> list[dict]:
        return [{"name": n, "fieldType": t} for n, t in
                self.db.execute("SELECT name, field_type FROM custom_fields ORDER BY rowid")]

    def field_type(self, name: str) -> str | None:
        row = self.db.execute("SELECT field_type FROM custom_fields WHERE name = ?",
                              (name,)).fetchone()
        return row[0] if row else None

    def define_field(self, name: str, field_type: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO custom_fields (name, field_type) VALUES (?, ?)",
                        (name, field_type))

    # hooks

    def hooks(self, event: str | None = None) -> list[dict]:
        query, args = "SELECT hook_id, event, target_url FROM hooks", ()
        if event is not None:
            query, args = query + " WHERE event = ?", (event,)
        return [{"hook_id": h, "event": e, "target_url": u}
                for h, e, u in self.db.execute(query + " ORDER BY rowid", args)]

    def add_hook(self, event: str, target_url: str) -> str:
        hook_id = f"hook_{uuid.uuid4().hex[:20]}"
        self.db.execute("INSERT INTO hooks VALUES (?, ?, ?)", (hook_id, event, target_url))
        return hook_id

    def delete_hook(self, hook_id: str) -> bool:
        return self.db.execute("DELETE FROM hooks WHERE hook_id = ?", (hook_id,)).rowcount > 0
