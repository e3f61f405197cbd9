"""The streams: `contacts` (incremental, list-status changes included) and `lists`.

A run of `contacts`:
1. contacts whose `udate` moved: `GET /contacts?filters[updated_after]=<bookmark - margin>`, in
   `id_greater` keyset pages;
2. unless `list_status_changes` is `udate`: who is unsubscribed or bounced on each list
   (`GET /contacts?listid=L&status=2|3`), compared with the sets the last run kept in the state
   (see `sweep.py`): contacts that entered or left a set changed a list status, whatever their
   `udate` says;
3. the details of every changed contact: one `GET /contacts/{id}` (contact, list statuses with
   their dates, field values) and one `GET /contacts/{id}/contactTags` each, or in bulk (every
   list by status, every tag, every field value, 100 a page) when that costs fewer calls: up to
   `detail_read_limit` changed contacts are always read one by one; above it the collections'
   totals (`limit=1` calls) decide.
The bookmark is the newest `udate` emitted, never later than the run's start minus
`safety_margin_seconds`; the list sets are stored after every record was emitted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from singer_sdk.helpers.types import Context
from singer_sdk.pagination import BaseAPIPaginator

from . import schemas
from .client import ActiveCampaignStream
from .pagination import PAGE_SIZE, IdKeysetPaginator, LimitOffsetPaginator
from .records import contact_record, format_time, list_record, membership
from .sweep import SWEPT_STATUSES, changed_ids, encode

DEFAULT_SAFETY_MARGIN_SECONDS = 300
DEFAULT_DETAIL_READ_LIMIT = 20
ALL_STATUSES = (0, 1, 2, 3)
SWEEP_KEY = "list_sweep"


class ListsStream(ActiveCampaignStream):
    name = "lists"
    path = "/lists"
    primary_keys = ("id",)
    records_jsonpath = "$.lists[*]"
    schema = schemas.LISTS

    def get_new_paginator(self) -> BaseAPIPaginator:
        return LimitOffsetPaginator("lists")

    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict:  # noqa: ANN401
        return {"limit": PAGE_SIZE, "offset": next_page_token or 0}

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return list_record(row)


class ContactsStream(ActiveCampaignStream):
    name = "contacts"
    path = "/contacts"
    primary_keys = ("id",)
    replication_key = "udate"
    is_sorted = False
    records_jsonpath = "$.contacts[*]"
    schema = schemas.CONTACTS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signpost: str | None = None
        self._since_param: str | None = None
        self._tag_names: dict[str, str] | None = None
        self._field_titles: dict[str, str] | None = None
        self.detail_reads = 0

    # the SDK's own listing: contacts whose udate moved

    def get_new_paginator(self) -> BaseAPIPaginator:
        return IdKeysetPaginator("contacts")

    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict:  # noqa: ANN401
        params: dict[str, Any] = {"limit": PAGE_SIZE, "orders[id]": "ASC"}
        if next_page_token is not None:
            params["id_greater"] = next_page_token
        if self._since_param:
            params["filters[updated_after]"] = self._since_param
        return params

    def get_replication_key_signpost(self, context: Context | None = None) -> str:
        if self._signpost is None:
            margin = float(self.config.get("safety_margin_seconds",
                                           DEFAULT_SAFETY_MARGIN_SECONDS))
            self._signpost = format_time(datetime.now(UTC) - timedelta(seconds=margin))
        return self._signpost

    @property
    def sweeping(self) -> bool:
        return (self.config.get("list_status_changes") or "sweep") == "sweep"

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self.get_replication_key_signpost(context)
        since = self.get_starting_timestamp(context)
        if since is not None:
            margin = float(self.config.get("safety_margin_seconds",
                                           DEFAULT_SAFETY_MARGIN_SECONDS))
            # `updated_after` is strict and udate has whole seconds: one second more
            self._since_param = format_time(since - timedelta(seconds=margin + 1))
        changed = {int(row["id"]): row for row in self.request_records(context)}
        docs: dict[int, dict] = dict(changed)
        state = self.get_context_state(context)
        sets: dict[str, set[int]] = {}
        targets = set(changed)
        list_ids = [str(row["id"]) for row in self.pages("/lists", "lists", context=context)]
        if self.sweeping:
            for list_id in list_ids:
                for status in SWEPT_STATUSES:
                    members = self._members(list_id, status, docs, context)
                    sets[f"{list_id}:{status}"] = set(members)
            moved = changed_ids(state.get(SWEEP_KEY), sets)
            if moved is None and since is not None:
                moved = set().union(*sets.values()) if sets else set()
            targets |= moved or set()
        self.logger.info("%d contacts changed since %s (%d by udate)", len(targets),
                         since.isoformat() if since else "the beginning", len(changed))
        limit = int(self.config.get("detail_read_limit", DEFAULT_DETAIL_READ_LIMIT))
        if limit >= 0 and (len(targets) <= limit or
                           2 * len(targets) <= self._bulk_cost(list_ids, sets, context)):
            yield from self._detailed(sorted(targets), docs, context)
        else:
            yield from self._bulk(targets, docs, list_ids, context)
        if self.sweeping:
            state[SWEEP_KEY] = {key: encode(ids) for key, ids in sorted(sets.items())}

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return row

    # reads

    def _members(self, list_id: str, status: int, docs: dict[int, dict],
                 context: Context | None) -> list[int]:
        ids = []
        for row in self.pages("/contacts", "contacts", {"listid": list_id, "status": status},
                              keyset=True, context=context):
            ids.append(int(row["id"]))
            docs.setdefault(int(row["id"]), row)
        return ids

    def _total(self, path: str, params: dict, context: Context | None) -> int:
        body = self.call(path, {**params, "limit": 1}, context) or {}
        total = str((body.get("meta") or {}).get("total") or 0)
        return int(total) if total.isdigit() else 0

    def _bulk_cost(self, list_ids: list[str], sets: dict[str, set[int]],
                   context: Context | None) -> int:
        """Calls a bulk read would take, from the collections' totals (a few `limit=1`
        calls): one page of 100 per list and status, per tag, and of field values."""
        def pages(count: int) -> int:
            return max(1, -(-count // PAGE_SIZE))

        cost = 0
        for list_id in list_ids:
            for status in ALL_STATUSES:
                known = sets.get(f"{list_id}:{status}")
                count = len(known) if known is not None else self._total(
                    "/contacts", {"listid": list_id, "status": status}, context)
                cost += pages(count)
        for tag_id in self.tag_names(context):
            cost += pages(self._total("/contacts", {"tagid": tag_id}, context))
        if self.field_titles(context):
            cost += pages(self._total("/fieldValues", {}, context))
        return cost

    def tag_names(self, context: Context | None) -> dict[str, str]:
        if self._tag_names is None:
            self._tag_names = {str(t["id"]): t["tag"]
                               for t in self.pages("/tags", "tags", context=context)}
        return self._tag_names

    def field_titles(self, context: Context | None) -> dict[str, str]:
        if self._field_titles is None:
            self._field_titles = {str(f["id"]): f.get("title")
                                  for f in self.pages("/fields", "fields", context=context)}
        return self._field_titles

    def _value(self, row: dict, context: Context | None) -> dict:
        field_id = str(row["field"])
        return {"field_id": field_id, "title": self.field_titles(context).get(field_id),
                "value": row.get("value")}

    def _detailed(self, ids: list[int], docs: dict[int, dict],
                  context: Context | None) -> Iterable[dict]:
        for contact_id in ids:
            body = self.call(f"/contacts/{contact_id}", context=context, missing_ok=True)
            if body is None:
                continue  # deleted since it was listed
            tags = self.call(f"/contacts/{contact_id}/contactTags", context=context,
                             missing_ok=True) or {}
            self.detail_reads += 1
            names = self.tag_names(context)
            yield contact_record(
                body["contact"],
                [membership(m["list"], m["status"], m.get("udate"))
                 for m in body.get("contactLists") or []],
                [names.get(str(t["tag"]), str(t["tag"])) for t in tags.get("contactTags") or []],
                [self._value(v, context) for v in body.get("fieldValues") or []])

    def _bulk(self, targets: set[int], docs: dict[int, dict], list_ids: list[str],
              context: Context | None) -> Iterable[dict]:
        memberships: dict[int, list[dict]] = defaultdict(list)
        for list_id in list_ids:
            for status in ALL_STATUSES:
                for contact_id in self._members(list_id, status, docs, context):
                    if contact_id in targets:
                        memberships[contact_id].append(membership(list_id, status))
        tags: dict[int, list[str]] = defaultdict(list)
        for tag_id, name in self.tag_names(context).items():
            for row in self.pages("/contacts", "contacts", {"tagid": tag_id}, keyset=True,
                                  context=context):
                if int(row["id"]) in targets:
                    tags[int(row["id"])].append(name)
        values: dict[int, list[dict]] = defaultdict(list)
        if self.field_titles(context):
            for row in self.pages("/fieldValues", "fieldValues", context=context):
                if int(row["contact"]) in targets:
                    values[int(row["contact"])].append(self._value(row, context))
        for contact_id in sorted(targets):
            if contact_id not in docs:
                continue  # left every list and its udate did not move: deleted
            yield contact_record(docs[contact_id], memberships[contact_id], tags[contact_id],
                                 values[contact_id])


STREAM_TYPES = (ContactsStream, ListsStream)
