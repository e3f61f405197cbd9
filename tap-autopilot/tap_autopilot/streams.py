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

    Kept: contacts whose `updated_at` is at or after the bookmark. The stream is unsorted, so the
    SDK keeps the new bookmark in progress markers and only promotes it once the scan completed,
    capped by the signpost: the scan's start minus a safety margin. A contact changed during the
    scan, after its page was read, is therefore newer than the next bookmark and is read again.
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
        self.scanned = 0
        self.emitted = 0
        self.progress: Progress | None = None

    def get_replication_key_signpost(self, context: Context | None = None) -> str:
        if self._signpost is None:
            margin = float(self.config.get("safety_margin_seconds", DEFAULT_SAFETY_MARGIN_SECONDS))
            self._signpost = format_timestamp(datetime.now(UTC) - timedelta(seconds=margin))
        return self._signpost

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self._since = self.get_starting_timestamp(context)
        yield from super().get_records(context)
        self.logger.info("Scanned %d contacts, %d changed since %s", self.scanned, self.emitted,
                         self._since.isoformat() if self._since else "the beginning")

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        if self.progress is None:  # the first page names the total
            total = response.json().get("total_contacts")
            self.progress = Progress(self.logger, "contacts scanned",
                                     total if isinstance(total, int) else None)
        yield from super().parse_response(response)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        self.scanned += 1
        if self.progress is not None:
            self.progress.advance()
        record = contact_record(row)
        updated_at = record["updated_at"]
        # >= keeps contacts sharing the bookmark's instant; a contact without updated_at is
        # always kept, as it cannot be shown unchanged.
        if self._since and updated_at and parse_timestamp(updated_at) < self._since:
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
