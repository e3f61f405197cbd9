"""``sobjects/{T}/updated`` and ``/deleted``: the replication calls, by ``SystemModstamp``.

Seconds are ignored (12:30:15 reads as 12:30:00), a window may reach 30 days back, and
``latestDateCovered`` is the end of the window or, when that lies ahead, the current minute.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from .errors import SalesforceError
from .schema import ObjectDef, format_datetime, parse_datetime
from .store import Store, quote

WINDOW = timedelta(days=30)
MAX_IDS = 600_000
LAST_PURGE = "last_purge"  # epoch of the last record removed for good (hardDelete)


def replication_error(message: str) -> SalesforceError:
    return SalesforceError("INVALID_REPLICATION_DATE", message)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _moment(name: str, text: str | None) -> datetime:
    if not text:
        raise SalesforceError("MISSING_ARGUMENT", f"The '{name}' parameter is required: an "
                              "ISO 8601 date and time, e.g. 2024-01-01T00:00:00+00:00")
    try:
        return _minute(parse_datetime(text).astimezone(UTC))
    except ValueError:
        raise replication_error(f"{name}: invalid date/time: {text}") from None


class Changes:
    def __init__(self, store: Store):
        self.store = store

    def _window(self, start_text: str | None, end_text: str | None) -> tuple[datetime, datetime]:
        start, end = _moment("start", start_text), _moment("end", end_text)
        now = _minute(datetime.now(UTC))
        if start > end:
            raise replication_error("startDate must chronologically precede endDate")
        if start < now - WINDOW:
            raise replication_error("startDate cannot be more than 30 days ago")
        return start, min(end, now)

    def updated(self, obj: ObjectDef, start_text: str | None, end_text: str | None) -> dict:
        start, covered = self._window(start_text, end_text)
        live = " AND IsDeleted = 0" if any(f.name == "IsDeleted" for f in obj.fields) else ""
        ids = [r[0] for r in self.store.db.execute(
            f"SELECT Id FROM {quote(obj.name)} WHERE SystemModstamp >= ? AND SystemModstamp < ?"
            f"{live} ORDER BY SystemModstamp, rowid LIMIT ?",
            (format_datetime(start), format_datetime(covered), MAX_IDS + 1))]
        if len(ids) > MAX_IDS:
            raise SalesforceError("EXCEEDED_ID_LIMIT", f"The window holds more than {MAX_IDS} "
                                  "updated records: ask for a shorter one")
        return {"ids": ids, "latestDateCovered": format_datetime(covered)}

    def deleted(self, obj: ObjectDef, start_text: str | None, end_text: str | None) -> dict:
        start, covered = self._window(start_text, end_text)
        earliest = self.earliest_available()
        if start < earliest:
            raise replication_error(f"startDate is before the earliest date available "
                                    f"({format_datetime(earliest)})")
        records = []
        if any(f.name == "IsDeleted" for f in obj.fields):
            records = [{"id": i, "deletedDate": d} for i, d in self.store.db.execute(
                f"SELECT Id, SystemModstamp FROM {quote(obj.name)} WHERE IsDeleted = 1 "
                "AND SystemModstamp >= ? AND SystemModstamp < ? ORDER BY SystemModstamp, rowid",
                (format_datetime(start), format_datetime(covered)))]
        return {"deletedRecords": records, "earliestDateAvailable": format_datetime(earliest),
                "latestDateCovered": format_datetime(covered)}

    def earliest_available(self) -> datetime:
        """After a record is removed for good, deletions before it can no longer be reported."""
        purged = self.store.meta(LAST_PURGE)
        floor = _minute(datetime.now(UTC)) - WINDOW
        if not purged:
            return floor
        return max(floor, _minute(datetime.fromtimestamp(purged, UTC)) + timedelta(minutes=1))

    def note_purge(self) -> None:
        self.store.set_meta(LAST_PURGE, int(time.time()))
