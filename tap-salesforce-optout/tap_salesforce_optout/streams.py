"""One stream per sObject: rows changed since the bookmark, deleted ones too (queryAll)."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable
from datetime import UTC, datetime

from singer_sdk import typing as th
from singer_sdk.streams import Stream

from consentsync_salesforce import SalesforceSession, UsageLimitReached

from .fields import json_type
from .selection import Selection

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.tap_base import Tap

REPLICATION_KEY = "SystemModstamp"
# the rows of the bookmark's second already emitted, {Id: SystemModstamp}, and that second
SEEN_KEY = "rows_in_bookmark_second"
SEEN_SECOND_KEY = "bookmark_second"


def to_utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def second_of(value: datetime) -> str:
    return iso(value.replace(microsecond=0))


class SObjectStream(Stream):
    replication_key = REPLICATION_KEY
    primary_keys: t.ClassVar[list[str]] = ["Id"]
    is_sorted = True
    # A row committed late can carry a SystemModstamp a few milliseconds below the bookmark but
    # in its second; it is read (the query starts at the bookmark's whole second) and must not
    # abort the run. The bookmark never leaves that second, so nothing is read twice or missed.
    check_sorted = False

    def __init__(self, tap: Tap, sobject: str, fields: dict[str, str], selection: Selection,
                 connection: SalesforceSession) -> None:
        self.sobject = sobject
        self.fields = fields  # name -> describe type
        self.selection = selection
        self.connection = connection
        properties = [th.Property(name, json_type(kind)) for name, kind in fields.items()]
        properties.append(th.Property("in_selection", th.BooleanType,
                                      description="false: the row changed but no longer "
                                                  "matches the selection criteria"))
        super().__init__(tap, schema=th.PropertiesList(*properties).to_dict(), name=sobject)

    def soql(self, since: datetime | None) -> str:
        where = ""
        if since is not None:
            # SOQL datetime literals have whole seconds: read the bookmark's second again and
            # skip the rows of it that were already emitted
            where = f" WHERE {REPLICATION_KEY} >= {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        return (f"SELECT {', '.join(self.fields)} FROM {self.sobject}{where} "
                f"ORDER BY {REPLICATION_KEY} ASC, Id ASC")

    def get_records(self, context: Context | None) -> Iterable[dict]:
        state = self.get_context_state(context)
        start = self.get_starting_replication_key_value(context)
        since = to_utc(start) if start else None
        seen: dict[str, str] = {}
        if since is not None and state.get(SEEN_SECOND_KEY) == second_of(since):
            seen = dict(state.get(SEEN_KEY) or {})
        query = self.soql(since)
        self.logger.info("Reading %s: %s", self.sobject, query)
        page_size = int(self.config.get("page_size") or 2000)
        try:
            for page in self.connection.query_pages(query, include_deleted=True,
                                                    page_size=page_size):
                for row in page["records"]:
                    record = self._record(row)
                    if seen.get(record["Id"]) == record[REPLICATION_KEY]:
                        continue  # emitted by an earlier run, unchanged since
                    self._remember(state, record)
                    yield record
        except UsageLimitReached as exc:
            # a clean stop: the rows emitted so far are bookmarked, the rest wait for a later run
            self.logger.warning("%s: %s", self.sobject, exc)
            return
        self.logger.info("%s read; %s", self.sobject, self.connection.usage_text())

    @staticmethod
    def _remember(state: dict, record: dict) -> None:
        second = second_of(to_utc(record[REPLICATION_KEY]))
        if state.get(SEEN_SECOND_KEY) != second:
            state[SEEN_SECOND_KEY] = second
            state[SEEN_KEY] = {}
        state[SEEN_KEY][record["Id"]] = record[REPLICATION_KEY]

    def _record(self, row: dict) -> dict:
        record = {name: row.get(name) for name in self.fields}
        for name, kind in self.fields.items():
            if kind == "datetime" and record.get(name):
                record[name] = iso(to_utc(record[name]))
        record["in_selection"] = self.selection.matches(record)
        return record
