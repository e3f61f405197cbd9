"""The change feed's events in one SQLite file: the hook receiver appends, the tap reads.

Each event is committed (WAL, synchronous=FULL) before the receiver answers 2xx, so an event
Autopilot counts as delivered is on disk. Ids only grow (AUTOINCREMENT), so the tap's position
in the feed is one number in its STATE; events at or below a position the tap was started with
(STATE that Meltano stored, so durable) are deleted by the tap, never before.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .timestamps import parse_timestamp

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


def _stamp_of(event: Event) -> datetime | None:
    """When the contact the hook sent was last changed; None when it sent no whole contact."""
    contact = event.contact
    if contact is None or any(key not in contact for key in REQUIRED) \
            or contact["contact_id"] != event.contact_id:
        return None
    try:
        return parse_timestamp(contact["updated_at"])
    except (TypeError, ValueError):
        return None


def sent_contacts(events: list[Event]) -> dict[str, dict]:
    """The contact each hook sent, newest by its `updated_at` (hooks may arrive out of order),
    for the contacts whose every event carried a whole one; the others must be read."""
    newest: dict[str, tuple[datetime, dict]] = {}
    partial: set[str] = set()
    for event in events:
        when = _stamp_of(event)
        if when is None:
            partial.add(event.contact_id)
        elif event.contact_id not in newest or when >= newest[event.contact_id][0]:
            newest[event.contact_id] = (when, event.contact)
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
