"""The Autopilot streams: contacts (incremental over a full scan), lists, list members, fields."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import requests
from singer_sdk.helpers.types import Context
from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from singer_sdk.streams.rest import HTTPRequest, PageContext

from api_pacing import Progress

from . import schemas
from .client import AutopilotStream
from .feed_store import EventStore, sent_contacts
from .list_titles import ListTitles
from .pagination import BookmarkPaginator
from .records import contact_record
from .scan_memory import ScanMemory
from .timestamps import format_timestamp, parse_timestamp

DEFAULT_SAFETY_MARGIN_SECONDS = 300
DEFAULT_FULL_SCAN_HOURS = 24
PAGE_SIZE = 100
# the change feed's keys in the contacts stream's state
FEED_POSITION, FULL_SCAN_AT, RECEIVER_START = "feed_event_id", "full_scan_at", "receiver_start"


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
        self._scan_started_at = datetime.now(UTC)
        self._replaying = False
        self.scanned = 0
        self.emitted = 0
        self.progress: Progress | None = None
        self.list_titles = ListTitles(self._read_lists)

    @property
    def margin_seconds(self) -> float:
        return float(self.config.get("safety_margin_seconds", DEFAULT_SAFETY_MARGIN_SECONDS))

    def get_replication_key_signpost(self, context: Context | None = None) -> str:
        if self._signpost is None:
            self._signpost = format_timestamp(
                datetime.now(UTC) - timedelta(seconds=self.margin_seconds))
        return self._signpost

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        state = self.get_context_state(context)
        feed = self._feed()
        scan_covers = 0
        if feed is not None:
            position = int(state.get(FEED_POSITION) or 0)
            # Meltano handed this position in: it is durable, the events before it are done
            feed.consumed(position)
            up_to = feed.last_id()
            due = self._full_scan_due(state, feed)
            if not due:
                events = feed.after(position, up_to)
                ids = list(dict.fromkeys(e.contact_id for e in events))
                sent = sent_contacts(events)
                if not self._cheaper_to_scan(len(ids) - len(sent)):
                    yield from self._read_named(ids, sent, len(events))
                    state[FEED_POSITION] = up_to  # after the last record
                    return
                self.logger.info("Change feed: %d contacts named, a full scan is cheaper",
                                 len(ids))
            else:
                self.logger.info("Change feed: full scan (%s)", due)
            scan_covers = up_to  # every event received before the scan: the scan reads it
        yield from self._scan(context, state)
        if feed is not None:
            state[FEED_POSITION] = max(scan_covers, int(state.get(FEED_POSITION) or 0))
            state[FULL_SCAN_AT] = format_timestamp(self._scan_started_at)
            state[RECEIVER_START] = feed.last_start()

    def _scan(self, context: Context | None, state: dict) -> Iterable[dict[str, Any]]:
        started_at = self._scan_started_at = datetime.now(UTC)
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

    # the change feed

    def _feed(self) -> EventStore | None:
        path = self.config.get("events_db")
        return EventStore(path) if path else None

    def _full_scan_due(self, state: dict, feed: EventStore) -> str:
        """Why the safety net must run now ("" when it need not)."""
        last = state.get(FULL_SCAN_AT)
        if not last:
            return "no full scan yet"
        if state.get(RECEIVER_START) != feed.last_start():
            return "the hook receiver restarted since: hooks may have been lost meanwhile"
        hours = float(self.config.get("full_scan_interval_hours", DEFAULT_FULL_SCAN_HOURS))
        if datetime.now(UTC) - parse_timestamp(last) >= timedelta(hours=hours):
            return f"the last one is more than {hours:g} h old"
        return ""

    def _cheaper_to_scan(self, named: int) -> bool:
        """One call a named contact, or one a page of 100: the total tells, when it matters."""
        if named <= PAGE_SIZE:
            return False
        prepared = self.build_prepared_request(method="GET", url=self.get_url(None),
                                               headers=self.http_headers)
        total = self.request_decorator(self._request)(prepared, None).json().get(
            "total_contacts")
        return isinstance(total, int) and math.ceil(total / PAGE_SIZE) <= named

    def _read_named(self, ids: list[str], sent: dict[str, dict],
                    events: int) -> Iterable[dict[str, Any]]:
        """The contacts the events name: as the hooks sent them (no call), else read one by one
        (an event without the whole contact)."""
        gone = 0
        self._replaying = True  # records already: post_process passes them through
        progress = Progress(self.logger, "contacts read from the change feed", len(ids))
        for contact_id in ids:
            raw = sent.get(contact_id) or self._get_contact(contact_id)
            progress.advance()
            if raw is None:
                gone += 1  # deleted since: Autopilot reads it no more
                continue
            self.emitted += 1
            yield contact_record(raw)
        self._replaying = False
        self.logger.info("Change feed: %d events, %d contacts named (%d as the hooks sent them, "
                         "%d read), %d emitted, %d deleted since", events, len(ids), len(sent),
                         len(ids) - len(sent), self.emitted, gone)

    def _get_contact(self, contact_id: str) -> dict | None:
        url = f"{self.url_base}/contact/{self.path_part(contact_id)}"
        prepared = self.build_prepared_request(method="GET", url=url, headers=self.http_headers)

        def send(request: requests.PreparedRequest,
                 context: Context | None) -> requests.Response | None:
            response = self.requests_session.send(self.authenticator(request),
                                                  timeout=self.timeout)
            if response.status_code == HTTPStatus.NOT_FOUND:
                return None
            self.validate_response(response)
            return response

        response = self.request_decorator(send)(prepared, None)
        return None if response is None else response.json()

    def _read_lists(self) -> list[dict[str, Any]]:
        prepared = self.build_prepared_request(method="GET", url=f"{self.url_base}/lists",
                                               headers=self.http_headers)
        response = self.request_decorator(self._request)(prepared, None)
        return list(response.json().get("lists") or [])

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        if self.progress is None:  # the first page names the total
            total = response.json().get("total_contacts")
            self.progress = Progress(self.logger, "contacts scanned",
                                     total if isinstance(total, int) else None)
        yield from super().parse_response(response)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        record = self._changed(row)
        return None if record is None else self.list_titles.add_to(record)

    def _changed(self, row: dict) -> dict | None:
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
