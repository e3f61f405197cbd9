"""One stream per sObject: rows changed since the bookmark, deleted ones too (queryAll)."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable

from singer_sdk import typing as th
from singer_sdk.streams import Stream

from consentsync_salesforce import SalesforceSession, UsageLimitReached

from .bookmark import REPLICATION_KEY, advance, already_emitted, iso, to_utc, where
from .fields import json_type
from .selection import Selection

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.tap_base import Tap


class SObjectStream(Stream):
    replication_key = REPLICATION_KEY
    primary_keys: t.ClassVar[list[str]] = ["Id"]
    is_sorted = True
    # A late row of the bookmark's second can sort below the bookmark (see bookmark.py); it is
    # read and must not abort the run.
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

    def soql(self, where_clause: str) -> str:
        return (f"SELECT {', '.join(self.fields)} FROM {self.sobject}{where_clause} "
                f"ORDER BY {REPLICATION_KEY} ASC, Id ASC")

    def get_records(self, context: Context | None) -> Iterable[dict]:
        state = self.get_context_state(context)
        clause, seen = where(state, self.get_starting_replication_key_value(context))
        query = self.soql(clause)
        self.logger.info("Reading %s: %s", self.sobject, query)
        page_size = int(self.config.get("page_size") or 2000)
        try:
            for page in self.connection.query_pages(query, include_deleted=True,
                                                    page_size=page_size):
                for row in page["records"]:
                    record = self._record(row)
                    emitted = not already_emitted(seen, record)
                    advance(state, record, emitted)
                    if emitted:
                        yield record
        except UsageLimitReached as exc:
            # a clean stop: the rows emitted so far are bookmarked, the rest wait for a later run
            self.logger.warning("%s: %s", self.sobject, exc)
            return
        self.logger.info("%s read; %s", self.sobject, self.connection.usage_text())

    def _record(self, row: dict) -> dict:
        record = {name: row.get(name) for name in self.fields}
        for name, kind in self.fields.items():
            if kind == "datetime" and record.get(name):
                record[name] = iso(to_utc(record[name]))
        record["in_selection"] = self.selection.matches(record)
        return record
