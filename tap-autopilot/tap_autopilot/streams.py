"""The Autopilot streams: contacts (incremental over a full scan), lists, list members, fields."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from singer_sdk.helpers.types import Context
from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from singer_sdk.streams.rest import HTTPRequest, PageContext

from api_pacing import Progress

from . import schemas
from .client import AutopilotStream
from .pagination import BookmarkPaginator
from .records import contact_record
from .scan_memory import ScanMemory
from .timestamps import format_timestamp, parse_timestamp

DEFAULT_SAFETY_MARGIN_SECONDS = 300


class BookmarkPagedStream(AutopilotStream):
    """A listing read page by page: `<path>`, then `<path>/<bookmark>`."""

    records_jsonpath = "$.contacts[*]"

    def get_new_paginator(self) -> BaseAPIPaginator:
        return BookmarkPaginator(self.name)

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        if page.next_page_token:
            request.url = f"{request.url}/{self.path_part(page.next_page_token)}"
        return request


class ContactsStream(BookmarkPagedStream):
    """Every contact is read (Autopilot has no "changed since" filter); changed ones are emitted.

    Which ones changed is decided from the last complete scan's memory (scan_memory.py): the
    newest `updated_at` it saw, the start of its uncertain window (its start minus the safety
    margin) and a digest of the versions it saw in that window. Without that memory (a first
    run, or state of an older version of the tap), contacts whose `updated_at` is at or after
    the SDK's bookmark are kept. The stream is unsorted: the SDK promotes its bookmark only once
    the scan completed, capped by the signpost (the scan's start minus the safety margin), and
    the memory is written at that moment too.
    """

    name = "contacts"
    path = "/contacts"
    primary_keys = ("contact_id",)
    replication_key = "updated_at"
    is_sorted = False
    schema = schemas.CONTACTS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signpost: str | None = None
        self._since: datetime | None = None
        self._memory: ScanMemory | None = None
        self._replaying = False
        self.scanned = 0
        self.emitted = 0
        self.progress: Progress | None = None

    @property
    def margin_seconds(self) -> float:
        return float(self.config.get("safety_margin_seconds", DEFAULT_SAFETY_MARGIN_SECONDS))

    def get_replication_key_signpost(self, context: Context | None = None) -> str:
        if self._signpost is None:
            self._signpost = format_timestamp(
                datetime.now(UTC) - timedelta(seconds=self.margin_seconds))
        return self._signpost

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        started_at = datetime.now(UTC)
        state = self.get_context_state(context)
        self._since = self.get_starting_timestamp(context)
        self._memory = ScanMemory(state, started_at, self.margin_seconds)
        yield from super().get_records(context)
        memory = self._memory
        self._replaying = True  # the SDK runs post_process on these too: already records
        for record in memory.held_back_to_emit():
            self.emitted += 1
            yield record
        self._replaying = False
        memory.leave(state)  # after the last record: a failed scan leaves the old memory
        if self.progress is not None:
            self.progress.done()
        self.logger.info(
            "Scanned %d contacts, %d changed since %s (%d re-checked in the last scan's "
            "window, %d of them emitted again)", self.scanned, self.emitted,
            self._since.isoformat() if self._since else "the beginning", memory.held,
            memory.re_emitted)

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        if self.progress is None:  # the first page names the total
            total = response.json().get("total_contacts")
            self.progress = Progress(self.logger, "contacts scanned",
                                     total if isinstance(total, int) else None)
        yield from super().parse_response(response)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if self._replaying:
            return row
        self.scanned += 1
        if self.progress is not None:
            self.progress.advance()
        record = contact_record(row)
        if not record["updated_at"]:  # cannot be shown unchanged: always kept
            self.emitted += 1
            return record
        updated_at = parse_timestamp(record["updated_at"])
        memory = self._memory
        assert memory is not None
        memory.observe(record["contact_id"], updated_at)
        if memory.known:
            keep = memory.decide(record["contact_id"], updated_at, record)
        else:  # >= keeps contacts sharing the bookmark's instant
            keep = not (self._since and updated_at < self._since)
        if not keep:
            return None
        self.emitted += 1
        return record


class ListsStream(AutopilotStream):
    name = "lists"
    path = "/lists"
    primary_keys = ("list_id",)
    records_jsonpath = "$.lists[*]"
    schema = schemas.LISTS

    def get_new_paginator(self) -> BaseAPIPaginator:
        return SinglePagePaginator()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return {"list_id": row["list_id"], "title": row.get("title")}

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"list_id": record["list_id"]}


class ListMembersStream(BookmarkPagedStream):
    name = "list_members"
    path = "/list/{list_id}/contacts"
    primary_keys = ("list_id", "contact_id")
    parent_stream_type = ListsStream
    state_partitioning_keys: list[str] = []  # full table: no state per list
    schema = schemas.LIST_MEMBERS

    def get_url(self, context: Context | None) -> str:
        list_id = (context or {})["list_id"]
        return f"{self.url_base}/list/{self.path_part(list_id)}/contacts"

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return {"list_id": (context or {})["list_id"], "contact_id": row["contact_id"],
                "Email": row.get("Email")}


class CustomFieldsStream(AutopilotStream):
    name = "custom_fields"
    path = "/contacts/custom_fields"
    primary_keys = ("name",)
    records_jsonpath = "$[*]"
    schema = schemas.CUSTOM_FIELDS

    def get_new_paginator(self) -> BaseAPIPaginator:
        return SinglePagePaginator()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return {"name": row["name"], "fieldType": row.get("fieldType")}


STREAM_TYPES = (ContactsStream, ListsStream, ListMembersStream, CustomFieldsStream)
