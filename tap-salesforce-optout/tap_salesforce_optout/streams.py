"""One stream per sObject: rows changed since the bookmark, deleted ones too (queryAll)."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable

from singer_sdk import typing as th
from singer_sdk.singerlib import Catalog, Schema
from singer_sdk.streams import Stream

try:
    from singer_sdk.helpers.conform import TypeConformanceLevel
except ImportError:  # singer-sdk before the module was public
    from singer_sdk.helpers._typing import TypeConformanceLevel

from consentsync_salesforce import Bulk2, SalesforceSession, UsageLimitReached, from_csv

from .bookmark import (
    REPLICATION_KEY,
    UnorderedReads,
    advance,
    already_emitted,
    iso,
    to_utc,
    where,
)
from .fields import json_type
from .selection import Selection

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import SchemaMessage
    from singer_sdk.tap_base import Tap


def _mark_read_only(schema: dict, names: set[str]) -> dict:
    for name in names:
        if name in schema.get("properties", {}):
            schema["properties"][name]["readOnly"] = True
    return schema


class SObjectStream(Stream):
    # rows are typed as read (`from_csv` by describe type, REST's JSON as it comes), so the
    # SDK's per-value conformance pass (15% of the tap's CPU in a first load) has nothing to do
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    replication_key = REPLICATION_KEY
    primary_keys: t.ClassVar[list[str]] = ["Id"]
    is_sorted = True
    # A late row of the bookmark's second can sort below the bookmark (see bookmark.py); it is
    # read and must not abort the run.
    check_sorted = False

    def __init__(self, tap: Tap, sobject: str, fields: dict[str, str], selection: Selection,
                 connection: SalesforceSession, read_only: set[str] | None = None) -> None:
        self.sobject = sobject
        self.fields = fields  # name -> describe type
        self.selection = selection
        self.connection = connection
        properties = [th.Property(name, json_type(kind)) for name, kind in fields.items()]
        properties.append(th.Property("in_selection", th.BooleanType,
                                      description="false: the row changed but no longer "
                                                  "matches the selection criteria"))
        self.read_only = set(read_only or ())  # describe: not updateable (formula, FLS, system)
        super().__init__(tap, schema=_mark_read_only(th.PropertiesList(*properties).to_dict(),
                                                     self.read_only), name=sobject)

    def _generate_schema_messages(self) -> t.Generator[SchemaMessage, None, None]:
        # singer-sdk's catalog round trip (Schema.from_dict) drops JSON Schema keys it does not
        # know, readOnly among them: put it back on the way out
        for message in super()._generate_schema_messages():
            _mark_read_only(message.schema, self.read_only)
            yield message

    def apply_catalog(self, catalog: Catalog) -> None:
        # the catalog's selection with this run's describe: Meltano hands the tap a catalog
        # cached from an earlier run, when Field-Level Security may have shown other fields
        if (entry := catalog.get_stream(self.name)) is not None:
            entry.schema = Schema.from_dict(self.schema)
        super().apply_catalog(catalog)

    def soql(self, where_clause: str, ordered: bool = True) -> str:
        order = f" ORDER BY {REPLICATION_KEY} ASC, Id ASC" if ordered else ""
        return f"SELECT {', '.join(self.fields)} FROM {self.sobject}{where_clause}{order}"

    def get_records(self, context: Context | None) -> Iterable[dict]:
        state = self.get_context_state(context)
        start = self.get_starting_replication_key_value(context)
        clause, seen = where(state, start)
        query = self.soql(clause)
        self.logger.info("Reading %s: %s", self.sobject, query)
        page_size = int(self.config.get("page_size") or 2000)
        threshold = int(self.config.get("bulk_threshold") or 0)
        try:
            pages = self.connection.query_pages(query, include_deleted=True, page_size=page_size)
            for page in pages:
                for row in page["records"]:
                    record = self._record(row)
                    emitted = not already_emitted(seen, record)
                    advance(state, record, emitted)
                    if emitted:
                        yield record
                if threshold and not page.get("done", True) and \
                        page.get("totalSize", 0) >= threshold:
                    pages.close()
                    # the rest (from the position the first page reached) in one Bulk job
                    self.logger.info("%s: %d rows to read, at least bulk_threshold=%d: the "
                                     "rest through a Bulk API 2.0 query job", self.sobject,
                                     page["totalSize"], threshold)
                    yield from self._read_bulk(state, start)
                    break
        except UsageLimitReached as exc:
            # a clean stop: the rows emitted so far are bookmarked, the rest wait for a later run
            self.logger.warning("%s: %s", self.sobject, exc)
            return
        self.logger.info("%s read; %s", self.sobject, self.connection.usage_text())

    def _read_bulk(self, state: dict, start: str | None) -> Iterable[dict]:
        """Bulk rows come in no order: the position moves only once every row was read, so a
        run stopped midway reads them again (never skips them)."""
        clause, seen = where(state, start)
        query = self.soql(clause, ordered=False)
        self.logger.info("Reading %s in bulk: %s", self.sobject, query)
        reads = UnorderedReads()
        for page in Bulk2(self.connection).query(self.sobject, query, include_deleted=True):
            for row in page:
                record = self._record({name: from_csv(row.get(name, ""), kind)
                                       for name, kind in self.fields.items()})
                emitted = not already_emitted(seen, record)
                reads.note(record, emitted)
                if emitted:
                    yield record
        reads.commit(state)

    def _record(self, row: dict) -> dict:
        record = {name: row.get(name) for name in self.fields}
        for name, kind in self.fields.items():
            if kind == "datetime" and record.get(name):
                record[name] = iso(to_utc(record[name]))
        record["in_selection"] = self.selection.matches(record)
        return record
