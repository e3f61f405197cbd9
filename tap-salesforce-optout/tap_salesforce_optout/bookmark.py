"""Where an incremental read starts, kept in a STATE of bounded size.

The position is the (SystemModstamp, Id) of the last row read, and the next read pages on from
it: `SystemModstamp > :ts OR (SystemModstamp = :ts AND Id > :id)`, ordered by both, so rows
sharing a timestamp are neither missed nor read twice, however many share it.

A row committed late can carry a SystemModstamp at or a little below the bookmark, in its
second (Salesforce compares datetimes to the second). While that second holds at most
MAX_REMEMBERED rows, their Ids are kept and the next read starts at the whole second, skipping
the rows it already emitted, so such a late row is still read. A second with more rows (a mass
update) is paged on by position alone: STATE stays a few KB whatever the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from simple_salesforce.format import quote_soql_value

REPLICATION_KEY = "SystemModstamp"
POSITION_KEY = "position"  # [SystemModstamp, Id] of the last row read
SECOND_KEY = "bookmark_second"
SEEN_KEY = "rows_in_bookmark_second"  # {Id: millisecond in that second}; null: too many
MAX_REMEMBERED = 64


def to_utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def second_of(value: datetime) -> str:
    return iso(value.replace(microsecond=0))


def millisecond(value: datetime) -> int:
    return value.microsecond // 1000


def soql_datetime(value: datetime) -> str:
    """A SOQL datetime literal (UTC), with milliseconds when the value has any."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millisecond(value):03d}Z" if value.microsecond else f"{text}Z"


def remembered(state: Mapping) -> dict[str, int] | None:
    """The rows of the bookmark's second already emitted, or None when they are not known."""
    seen = state.get(SEEN_KEY)
    if not state.get(SECOND_KEY) or not isinstance(seen, dict):
        return None
    # STATE written before positions existed kept {Id: SystemModstamp}
    return {i: v if isinstance(v, int) else millisecond(to_utc(v)) for i, v in seen.items()}


def where(state: Mapping, start: str | None) -> tuple[str, dict[str, int]]:
    """The WHERE clause of the next read, and the rows it must skip.

    `start` is the stream's replication key value (or start_date) when this tap has not
    written a position yet."""
    seen = remembered(state)
    if seen is not None:
        second = to_utc(state[SECOND_KEY])
        return f" WHERE {REPLICATION_KEY} >= {soql_datetime(second)}", seen
    position = state.get(POSITION_KEY)
    if position:
        stamp, last_id = soql_datetime(to_utc(position[0])), quote_soql_value(position[1])
        return (f" WHERE ({REPLICATION_KEY} > {stamp} OR ({REPLICATION_KEY} = {stamp} AND "
                f"Id > {last_id}))"), {}
    if start:
        since = to_utc(start).replace(microsecond=0)
        return f" WHERE {REPLICATION_KEY} >= {soql_datetime(since)}", {}
    return "", {}


def already_emitted(seen: Mapping[str, int], record: Mapping) -> bool:
    """Emitted by an earlier run and unchanged since (same millisecond of that second)."""
    return seen.get(record["Id"]) == millisecond(to_utc(record[REPLICATION_KEY]))


def advance(state: dict, record: Mapping, emitted: bool) -> None:
    """Move the position to a row read (never backwards); remember it in its second."""
    stamp = to_utc(record[REPLICATION_KEY])
    position = state.get(POSITION_KEY)
    if not position or (stamp, record["Id"]) > (to_utc(position[0]), position[1]):
        state[POSITION_KEY] = [iso(stamp), record["Id"]]
    if not emitted:
        return
    second = second_of(stamp)
    if state.get(SECOND_KEY) != second:  # reads run forward: a later second begins
        state[SECOND_KEY], state[SEEN_KEY] = second, {}
    seen = state.get(SEEN_KEY)
    if isinstance(seen, dict):
        seen[record["Id"]] = millisecond(stamp)
        if len(seen) > MAX_REMEMBERED:
            state[SEEN_KEY] = None  # a mass update: paged on by position alone


class UnorderedReads:
    """The position after rows read in no order (a Bulk job): set only once all were read."""

    def __init__(self) -> None:
        self.top: tuple | None = None  # (SystemModstamp, Id) of the greatest row read
        self.second: str | None = None  # the greatest second emitted, and its rows
        self.seen: dict[str, int] | None = {}

    def note(self, record: Mapping, emitted: bool) -> None:
        stamp = to_utc(record[REPLICATION_KEY])
        if self.top is None or (stamp, record["Id"]) > self.top:
            self.top = (stamp, record["Id"])
        if not emitted:
            return
        second = second_of(stamp)
        if self.second is None or to_utc(second) > to_utc(self.second):
            self.second, self.seen = second, {}
        if second == self.second and self.seen is not None:
            self.seen[record["Id"]] = millisecond(stamp)
            if len(self.seen) > MAX_REMEMBERED:
                self.seen = None

    def commit(self, state: dict) -> None:
        if self.top is not None:
            advance(state, {REPLICATION_KEY: iso(self.top[0]), "Id": self.top[1]}, False)
        if self.second is None:
            return
        if state.get(SECOND_KEY) == self.second:
            old = state.get(SEEN_KEY)
            merged = None if old is None or self.seen is None else {**old, **self.seen}
            state[SEEN_KEY] = None if merged is None or len(merged) > MAX_REMEMBERED else merged
        elif not state.get(SECOND_KEY) or to_utc(self.second) > to_utc(state[SECOND_KEY]):
            state[SECOND_KEY], state[SEEN_KEY] = self.second, self.seen
