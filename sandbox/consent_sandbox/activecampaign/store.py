"""Contacts, lists, list statuses, tags, custom fields, bounces, webhooks and imports in SQLite.

Ids are integers here and JSON strings on the wire, as ActiveCampaign sends them. Contact
timestamps are kept twice: as the API shows them (the account's time zone with its offset) and
in UTC for the `filters[...]` comparisons.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ACCOUNT_TZ = ZoneInfo("America/Chicago")  # the sandbox account's time zone
ZERO_DATE = "0000-00-00 00:00:00"
SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email_lower TEXT NOT NULL UNIQUE,
    udate_utc TEXT NOT NULL,
    cdate_utc TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_udate ON contacts (udate_utc);
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contact_lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact INTEGER NOT NULL, list INTEGER NOT NULL, status INTEGER NOT NULL,
    sdate TEXT, udate TEXT, unsubreason TEXT, created_ts TEXT, updated_ts TEXT,
    UNIQUE (contact, list)
);
CREATE INDEX IF NOT EXISTS contact_lists_list ON contact_lists (list, status, contact);
CREATE TABLE IF NOT EXISTS tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tag TEXT NOT NULL, tag_lower TEXT NOT NULL UNIQUE,
    tag_type TEXT NOT NULL, description TEXT NOT NULL, cdate TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contact_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT, contact INTEGER NOT NULL, tag INTEGER NOT NULL,
    cdate TEXT NOT NULL, UNIQUE (contact, tag)
);
CREATE INDEX IF NOT EXISTS contact_tags_tag ON contact_tags (tag, contact);
CREATE TABLE IF NOT EXISTS fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, title_lower TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL, perstag TEXT NOT NULL, cdate TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS field_values (
    id INTEGER PRIMARY KEY AUTOINCREMENT, contact INTEGER NOT NULL, field INTEGER NOT NULL,
    value TEXT, cdate TEXT NOT NULL, udate TEXT NOT NULL, UNIQUE (contact, field)
);
CREATE TABLE IF NOT EXISTS bounce_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, contact INTEGER NOT NULL, email TEXT NOT NULL,
    tstamp TEXT NOT NULL, codeid TEXT NOT NULL, error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS imports (
    batch_id TEXT PRIMARY KEY, status TEXT NOT NULL, contacts INTEGER NOT NULL,
    for_date TEXT NOT NULL, success TEXT NOT NULL, failure TEXT NOT NULL
);
"""
TABLES = ("contacts", "lists", "contact_lists", "tags", "contact_tags", "fields", "field_values",
          "bounce_logs", "webhooks", "imports")


def account_time(moment: datetime | None = None) -> str:
    """`2018-09-12T17:00:00-05:00`: seconds, in the account's zone with its offset."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(ACCOUNT_TZ).replace(microsecond=0).isoformat()


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def local_plain(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS` in the account's zone, as `created_timestamp` and friends."""
    return moment.astimezone(ACCOUNT_TZ).strftime("%Y-%m-%d %H:%M:%S")


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
            for table in TABLES:
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            self.db.execute("DELETE FROM sqlite_sequence")

    def is_empty(self) -> bool:
        return self.db.execute("SELECT 1 FROM contacts LIMIT 1").fetchone() is None

    # contacts

    def contact(self, contact_id: int) -> dict | None:
        row = self.db.execute("SELECT id, doc FROM contacts WHERE id = ?",
                              (contact_id,)).fetchone()
        return {**json.loads(row[1]), "id": row[0]} if row else None

    def contact_by_email(self, email: str) -> dict | None:
        row = self.db.execute("SELECT id, doc FROM contacts WHERE email_lower = ?",
                              (email.strip().lower(),)).fetchone()
        return {**json.loads(row[1]), "id": row[0]} if row else None

    def insert_contact(self, doc: dict, moment: datetime) -> dict:
        doc = {**doc, "cdate": account_time(moment), "udate": account_time(moment),
               "created_utc_timestamp": utc_text(moment),
               "updated_utc_timestamp": utc_text(moment)}
        cursor = self.db.execute(
            "INSERT INTO contacts (email_lower, udate_utc, cdate_utc, doc) VALUES (?, ?, ?, ?)",
            (doc["email"].strip().lower(), utc_text(moment), utc_text(moment), json.dumps(doc)))
        return {**doc, "id": cursor.lastrowid}

    def save_contact(self, doc: dict, moment: datetime | None) -> dict:
        """Write the contact back; `moment` moves its `udate` (None leaves it)."""
        doc = {k: v for k, v in doc.items() if k != "id"} | {"id": doc["id"]}
        if moment is not None:
            doc["udate"] = account_time(moment)
            doc["updated_utc_timestamp"] = utc_text(moment)
        body = {k: v for k, v in doc.items() if k != "id"}
        self.db.execute("UPDATE contacts SET email_lower = ?, udate_utc = ?, doc = ? WHERE id = ?",
                        (doc["email"].strip().lower(), doc["updated_utc_timestamp"],
                         json.dumps(body), doc["id"]))
        return doc

    def delete_contact(self, contact_id: int) -> bool:
        gone = self.db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,)).rowcount > 0
        for table in ("contact_lists", "contact_tags", "field_values", "bounce_logs"):
            self.db.execute(f"DELETE FROM {table} WHERE contact = ?",  # noqa: S608 - fixed
                            (contact_id,))
        return gone

    def query_contacts(self, where: list[str], args: list, order: str, limit: int,
                       offset: int) -> tuple[list[dict], int]:
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self.db.execute(f"SELECT COUNT(*) FROM contacts c {clause}",  # noqa: S608
                                args).fetchone()[0]
        rows = self.db.execute(
            f"SELECT c.id, c.doc FROM contacts c {clause} ORDER BY {order} "  # noqa: S608
            "LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return [{**json.loads(doc), "id": i} for i, doc in rows], total

    def every_contact(self) -> Iterator[dict]:
        start = 0
        while True:
            rows = self.db.execute("SELECT id, doc FROM contacts WHERE id > ? ORDER BY id "
                                   "LIMIT 1000", (start,)).fetchall()
            if not rows:
                return
            yield from ({**json.loads(doc), "id": i} for i, doc in rows)
            start = rows[-1][0]

    # lists and list statuses

    def lists(self, limit: int, offset: int) -> tuple[list[dict], int]:
        total = self.db.execute("SELECT COUNT(*) FROM lists").fetchone()[0]
        rows = self.db.execute("SELECT id, doc FROM lists ORDER BY id LIMIT ? OFFSET ?",
                               (limit, offset)).fetchall()
        return [{**json.loads(doc), "id": i} for i, doc in rows], total

    def list_(self, list_id: int) -> dict | None:
        row = self.db.execute("SELECT id, doc FROM lists WHERE id = ?", (list_id,)).fetchone()
        return {**json.loads(row[1]), "id": row[0]} if row else None

    def list_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM lists ORDER BY id")]

    def create_list(self, doc: dict) -> dict:
        cursor = self.db.execute("INSERT INTO lists (name, doc) VALUES (?, ?)",
                                 (doc["name"], json.dumps(doc)))
        return {**doc, "id": cursor.lastrowid}

    def contact_lists(self, contact_id: int) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, contact, list, status, sdate, udate, unsubreason, created_ts, updated_ts "
            "FROM contact_lists WHERE contact = ? ORDER BY list", (contact_id,)).fetchall()
        keys = ("id", "contact", "list", "status", "sdate", "udate", "unsubreason",
                "created_timestamp", "updated_timestamp")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def list_status(self, contact_id: int, list_id: int) -> int | None:
        row = self.db.execute("SELECT status FROM contact_lists WHERE contact = ? AND list = ?",
                              (contact_id, list_id)).fetchone()
        return row[0] if row else None

    def set_list_status(self, contact_id: int, list_id: int, status: int, moment: datetime,
                        reason: str | None = None) -> bool:
        """True when the status changed (or the membership is new)."""
        before = self.list_status(contact_id, list_id)
        if before == status:
            return False
        stamp, plain = account_time(moment), local_plain(moment)
        if before is None:
            self.db.execute(
                "INSERT INTO contact_lists (contact, list, status, sdate, udate, unsubreason, "
                "created_ts, updated_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (contact_id, list_id, status, stamp, stamp, reason, plain, plain))
        else:
            self.db.execute(
                "UPDATE contact_lists SET status = ?, udate = ?, updated_ts = ?, "
                "sdate = CASE WHEN ? = 1 THEN ? ELSE sdate END, unsubreason = ? "
                "WHERE contact = ? AND list = ?",
                (status, stamp, plain, status, stamp, reason, contact_id, list_id))
        return True

    # tags

    def tags(self, search: str | None, limit: int, offset: int) -> tuple[list[dict], int]:
        where, args = ("WHERE tag_lower LIKE ?", [f"%{search.lower()}%"]) if search else ("", [])
        total = self.db.execute(f"SELECT COUNT(*) FROM tags {where}", args).fetchone()[0]  # noqa: S608
        rows = self.db.execute(
            f"SELECT id, tag, tag_type, description, cdate FROM tags {where} "  # noqa: S608
            "ORDER BY id LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return [{"id": r[0], "tag": r[1], "tagType": r[2], "description": r[3], "cdate": r[4]}
                for r in rows], total

    def tag_by_name(self, name: str) -> int | None:
        row = self.db.execute("SELECT id FROM tags WHERE tag_lower = ?",
                              (name.strip().lower(),)).fetchone()
        return row[0] if row else None

    def tag_exists(self, tag_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM tags WHERE id = ?", (tag_id,)).fetchone() is not None

    def create_tag(self, name: str, tag_type: str = "contact", description: str = "") -> int:
        return self.db.execute(
            "INSERT INTO tags (tag, tag_lower, tag_type, description, cdate) VALUES (?,?,?,?,?)",
            (name.strip(), name.strip().lower(), tag_type, description, account_time())).lastrowid

    def tag_contact(self, contact_id: int, tag_id: int) -> tuple[dict, bool]:
        row = self.db.execute("SELECT id, cdate FROM contact_tags WHERE contact = ? AND tag = ?",
                              (contact_id, tag_id)).fetchone()
        if row:
            return {"id": row[0], "contact": contact_id, "tag": tag_id, "cdate": row[1]}, False
        stamp = account_time()
        new_id = self.db.execute("INSERT INTO contact_tags (contact, tag, cdate) VALUES (?,?,?)",
                                 (contact_id, tag_id, stamp)).lastrowid
        return {"id": new_id, "contact": contact_id, "tag": tag_id, "cdate": stamp}, True

    def contact_tags(self, contact_id: int) -> list[dict]:
        rows = self.db.execute("SELECT ct.id, ct.tag, ct.cdate, t.tag FROM contact_tags ct "
                               "JOIN tags t ON t.id = ct.tag WHERE ct.contact = ? ORDER BY ct.id",
                               (contact_id,)).fetchall()
        return [{"id": r[0], "contact": contact_id, "tag": r[1], "cdate": r[2], "name": r[3]}
                for r in rows]

    def contact_tag(self, contact_tag_id: int) -> dict | None:
        row = self.db.execute("SELECT id, contact, tag FROM contact_tags WHERE id = ?",
                              (contact_tag_id,)).fetchone()
        return {"id": row[0], "contact": row[1], "tag": row[2]} if row else None

    def untag(self, contact_tag_id: int) -> bool:
        return self.db.execute("DELETE FROM contact_tags WHERE id = ?",
                               (contact_tag_id,)).rowcount > 0

    # custom fields

    def fields(self) -> list[dict]:
        rows = self.db.execute("SELECT id, title, type, perstag, cdate FROM fields ORDER BY id")
        return [{"id": r[0], "title": r[1], "type": r[2], "perstag": r[3], "cdate": r[4]}
                for r in rows]

    def field_exists(self, field_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM fields WHERE id = ?",
                               (field_id,)).fetchone() is not None

    def field_by_title(self, title: str) -> int | None:
        row = self.db.execute("SELECT id FROM fields WHERE title_lower = ?",
                              (title.strip().lower(),)).fetchone()
        return row[0] if row else None

    def create_field(self, title: str, field_type: str, perstag: str) -> dict:
        stamp = account_time()
        new_id = self.db.execute(
            "INSERT INTO fields (title, title_lower, type, perstag, cdate) VALUES (?,?,?,?,?)",
            (title.strip(), title.strip().lower(), field_type, perstag, stamp)).lastrowid
        return {"id": new_id, "title": title.strip(), "type": field_type, "perstag": perstag,
                "cdate": stamp}

    def set_field_value(self, contact_id: int, field_id: int, value: object) -> bool:
        """True when the stored value changed."""
        text = None if value is None else str(value)
        row = self.db.execute("SELECT value FROM field_values WHERE contact = ? AND field = ?",
                              (contact_id, field_id)).fetchone()
        stamp = account_time()
        if row is None:
            self.db.execute("INSERT INTO field_values (contact, field, value, cdate, udate) "
                            "VALUES (?,?,?,?,?)", (contact_id, field_id, text, stamp, stamp))
            return True
        if row[0] == text:
            return False
        self.db.execute("UPDATE field_values SET value = ?, udate = ? WHERE contact = ? AND "
                        "field = ?", (text, stamp, contact_id, field_id))
        return True

    def field_values(self, contact_id: int | None = None, field_id: int | None = None,
                     limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
        where, args = [], []
        if contact_id is not None:
            where.append("contact = ?")
            args.append(contact_id)
        if field_id is not None:
            where.append("field = ?")
            args.append(field_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self.db.execute(f"SELECT COUNT(*) FROM field_values {clause}",  # noqa: S608
                                args).fetchone()[0]
        rows = self.db.execute(
            f"SELECT id, contact, field, value, cdate, udate FROM field_values {clause} "  # noqa: S608
            "ORDER BY id LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        keys = ("id", "contact", "field", "value", "cdate", "udate")
        return [dict(zip(keys, r, strict=True)) for r in rows], total

    # bounces

    def add_bounce(self, contact_id: int, email: str, moment: datetime) -> None:
        self.db.execute("INSERT INTO bounce_logs (contact, email, tstamp, codeid, error) "
                        "VALUES (?,?,?,?,?)",
                        (contact_id, email, account_time(moment), "48", "mailbox does not exist"))

    def bounce_logs(self, contact_id: int) -> list[dict]:
        rows = self.db.execute("SELECT id, email, tstamp, codeid, error FROM bounce_logs "
                               "WHERE contact = ? ORDER BY id", (contact_id,)).fetchall()
        return [{"id": r[0], "contact": contact_id, "email": r[1], "tstamp": r[2],
                 "codeid": r[3], "error": r[4]} for r in rows]

    # webhooks

    def webhooks(self) -> list[dict]:
        return [{**json.loads(doc), "id": i}
                for i, doc in self.db.execute("SELECT id, doc FROM webhooks ORDER BY id")]

    def webhook(self, hook_id: int) -> dict | None:
        row = self.db.execute("SELECT doc FROM webhooks WHERE id = ?", (hook_id,)).fetchone()
        return {**json.loads(row[0]), "id": hook_id} if row else None

    def add_webhook(self, doc: dict) -> dict:
        new_id = self.db.execute("INSERT INTO webhooks (doc) VALUES (?)",
                                 (json.dumps(doc),)).lastrowid
        return {**doc, "id": new_id}

    def delete_webhook(self, hook_id: int) -> bool:
        return self.db.execute("DELETE FROM webhooks WHERE id = ?", (hook_id,)).rowcount > 0

    # bulk imports

    def add_import(self, batch_id: str, contacts: int) -> None:
        self.db.execute("INSERT INTO imports VALUES (?, 'pending', ?, ?, '[]', '[]')",
                        (batch_id, contacts, datetime.now(ACCOUNT_TZ).date().isoformat()))

    def finish_import(self, batch_id: str, success: list[str], failure: list[str]) -> None:
        self.db.execute("UPDATE imports SET status = 'completed', success = ?, failure = ? "
                        "WHERE batch_id = ?", (json.dumps(success), json.dumps(failure), batch_id))

    def import_info(self, batch_id: str) -> dict | None:
        row = self.db.execute("SELECT status, success, failure FROM imports WHERE batch_id = ?",
                              (batch_id,)).fetchone()
        if row is None:
            return None
        return {"status": row[0], "success": json.loads(row[1]), "failure": json.loads(row[2])}

    def import_summary(self) -> dict:
        rows = self.db.execute("SELECT status, for_date, COUNT(*), SUM(contacts) FROM imports "
                               "GROUP BY status, for_date ORDER BY for_date").fetchall()
        out: dict[str, list] = {"outstanding": [], "recentlyCompleted": []}
        for status, day, batches, contacts in rows:
            key = "recentlyCompleted" if status == "completed" else "outstanding"
            out[key].append({"forDate": day, "batches": str(batches), "contacts": str(contacts)})
        return out
