"""Contacts, lists, custom field definitions and hooks in one SQLite file.

A contact is kept as the JSON document the API reads back (without `lists`, which come from the
membership table), next to the columns paging and look-ups need.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id TEXT NOT NULL UNIQUE,
    email_lower TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_email ON contacts (email_lower);
CREATE TABLE IF NOT EXISTS lists (list_id TEXT PRIMARY KEY, title TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS members (
    list_id TEXT NOT NULL, contact_id TEXT NOT NULL, PRIMARY KEY (list_id, contact_id)
);
CREATE INDEX IF NOT EXISTS members_contact ON members (contact_id);
CREATE TABLE IF NOT EXISTS custom_fields (name TEXT PRIMARY KEY, field_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hooks (
    hook_id TEXT PRIMARY KEY, event TEXT NOT NULL, target_url TEXT NOT NULL
);
"""
PAGE = 100


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


class Store:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def reset(self) -> None:
        with self.transaction():
            for table in ("contacts", "lists", "members", "custom_fields", "hooks"):
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names

    def is_empty(self) -> bool:
        return self.db.execute("SELECT 1 FROM contacts LIMIT 1").fetchone() is None

    # contacts

    def find(self, id_or_email: str) -> list[dict]:
        """Every contact with that id or (case-blind) email, oldest first."""
        rows = self.db.execute(
            "SELECT doc FROM contacts WHERE contact_id = ? OR email_lower = ? ORDER BY seq",
            (id_or_email, id_or_email.strip().lower())).fetchall()
        return [json.loads(r[0]) for r in rows]

    def save(self, doc: dict) -> None:
        self.db.execute(
            "INSERT INTO contacts (contact_id, email_lower, doc) VALUES (?, ?, ?) "
            "ON CONFLICT (contact_id) DO UPDATE SET email_lower = excluded.email_lower, "
            "doc = excluded.doc",
            (doc["contact_id"], str(doc.get("Email") or "").strip().lower(), json.dumps(doc)))

    def insert_many(self, docs: Iterable[dict]) -> None:
        self.db.executemany(
            "INSERT INTO contacts (contact_id, email_lower, doc) VALUES (?, ?, ?)",
            ((d["contact_id"], str(d.get("Email") or "").strip().lower(), json.dumps(d))
             for d in docs))

    def delete(self, contact_ids: list[str]) -> None:
        for contact_id in contact_ids:
            self.db.execute("DELETE FROM contacts WHERE contact_id = ?", (contact_id,))
            self.db.execute("DELETE FROM members WHERE contact_id = ?", (contact_id,))

    def page(self, after: str | None, list_id: str | None = None) -> tuple[list[dict], bool]:
        """One page of contacts after the bookmark ``after``; True when more follow."""
        start = 0
        if after is not None:
            row = self.db.execute("SELECT seq FROM contacts WHERE contact_id = ?",
                                  (after,)).fetchone()
            if row is None:
                raise KeyError(after)
            start = row[0]
        if list_id is None:
            rows = self.db.execute("SELECT doc FROM contacts WHERE seq > ? ORDER BY seq LIMIT ?",
                                   (start, PAGE + 1)).fetchall()
        else:
            rows = self.db.execute(
                "SELECT c.doc FROM contacts c JOIN members m ON m.contact_id = c.contact_id "
                "WHERE m.list_id = ? AND c.seq > ? ORDER BY c.seq LIMIT ?",
                (list_id, start, PAGE + 1)).fetchall()
        docs = [json.loads(r[0]) for r in rows]
        return docs[:PAGE], len(docs) > PAGE

    def count(self, list_id: str | None = None) -> int:
        if list_id is None:
            return self.db.execute("SELECT COUNT(*) FROM contacts").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM members WHERE list_id = ?",
                               (list_id,)).fetchone()[0]

    def all(self) -> list[dict]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT doc FROM contacts ORDER BY seq")]

    def lists_of(self, contact_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {c: [] for c in contact_ids}
        for start in range(0, len(contact_ids), 500):
            chunk = contact_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for list_id, contact_id in self.db.execute(
                    f"SELECT list_id, contact_id FROM members WHERE contact_id IN ({marks}) "  # noqa: S608
                    "ORDER BY rowid", chunk):
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
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO members (list_id, contact_id) VALUES (?, ?)",
            (list_id, contact_id))
        return cursor.rowcount > 0

    def remove_member(self, list_id: str, contact_id: str) -> bool:
        cursor = self.db.execute("DELETE FROM members WHERE list_id = ? AND contact_id = ?",
                                 (list_id, contact_id))
        return cursor.rowcount > 0

    def is_member(self, list_id: str, contact_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM members WHERE list_id = ? AND contact_id = ?",
                               (list_id, contact_id)).fetchone() is not None

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
                for h, e, u in self.db.execute(query, args)]

    def add_hook(self, event: str, target_url: str) -> str:
        hook_id = f"hook_{uuid.uuid4().hex[:20]}"
        self.db.execute("INSERT INTO hooks VALUES (?, ?, ?)", (hook_id, event, target_url))
        return hook_id

    def delete_hook(self, hook_id: str) -> bool:
        return self.db.execute("DELETE FROM hooks WHERE hook_id = ?", (hook_id,)).rowcount > 0


def new_contact_id() -> str:
    return f"person_{str(uuid.uuid4()).upper()}"
