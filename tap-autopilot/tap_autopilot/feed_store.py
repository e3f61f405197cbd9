"""The change feed's events in one SQLite file: the hook receiver appends, the tap reads.

Each event is committed (WAL, synchronous=FULL) before the receiver answers 2xx, so an event
Autopilot counts as delivered is on disk. Ids only grow (AUTOINCREMENT), so the tap's position
in the feed is one number in its STATE; events at or below a position the tap was started with
(STATE that Meltano stored, so durable) are deleted by the tap, never before.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    event TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    email TEXT,
    contact TEXT
);
CREATE TABLE IF NOT EXISTS receiver_starts (started_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Event:
    id: int
    event: str
    contact_id: str
    email: str | None
    contact: dict | None = None  # the contact as the hook sent it (JSON), when it sent one


REQUIRED = ("contact_id", "Email", "unsubscribed", "updated_at")


def sent_contacts(events: list[Event],
                  stamp: Callable[[str], datetime]) -> dict[str, dict]:
    """The contact each hook sent, newest by its `updated_at` (hooks may arrive out of order),
    for the contacts whose every event carried a whole one; the others must be read."""
    newest: dict[str, tuple[datetime, dict]] = {}
    partial: set[str] = set()
    for event in events:
        contact = event.contact
        try:
            ok = contact is not None and all(key in contact for key in REQUIRED) \
                and contact["contact_id"] == event.contact_id
            when = stamp(contact["updated_at"]) if ok and contact else None
        except (TypeError, ValueError):
            when = None
        if when is None or contact is None:
            partial.add(event.contact_id)
            continue
        held = newest.get(event.contact_id)
        if held is None or when >= held[0]:
            newest[event.contact_id] = (when, contact)
    return {cid: contact for cid, (_, contact) in newest.items() if cid not in partial}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class EventStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit: every statement is its own durable transaction
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(events)")}
        if "contact" not in columns:  # a file of a receiver from before contacts were kept
            self.db.execute("ALTER TABLE events ADD COLUMN contact TEXT")

    def close(self) -> None:
        self.db.close()

    # the receiver

    def started(self) -> None:
        """A receiver started: hooks sent while none ran may be lost (the tap then scans)."""
        self.db.execute("INSERT INTO receiver_starts VALUES (?)", (_now(),))

    def append(self, event: str, contact_id: str, email: str | None,
               contact: dict | None = None) -> int:
        cursor = self.db.execute(
            "INSERT INTO events (received_at, event, contact_id, email, contact) "
            "VALUES (?, ?, ?, ?, ?)",
            (_now(), event, contact_id, email, None if contact is None else json.dumps(contact)))
        return int(cursor.lastrowid or 0)

    # the tap

    def last_start(self) -> str | None:
        row = self.db.execute("SELECT MAX(started_at) FROM receiver_starts").fetchone()
        return row[0] if row else None

    def last_id(self) -> int:
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0

    def after(self, position: int, up_to: int) -> list[Event]:
        rows = self.db.execute(
            "SELECT id, event, contact_id, email, contact FROM events WHERE id > ? AND id <= ? "
            "ORDER BY id", (position, up_to)).fetchall()
        return [Event(*row[:4], json.loads(row[4]) if row[4] else None) for row in rows]

    def consumed(self, position: int) -> int:
        """Forget events at or below a durable position; how many were deleted."""
        return self.db.execute("DELETE FROM events WHERE id <= ?", (position,)).rowcount
