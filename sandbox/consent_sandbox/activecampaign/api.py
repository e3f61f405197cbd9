"""The ActiveCampaign v3 routes under `/api/3`, behind the `Api-Token` header and the rate limit:
contacts, list statuses, tags and custom field values of contacts, bounce logs."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..settings import SandboxSettings
from . import views
from .account import SUBSCRIBED, UNSUBSCRIBED, Account, as_id, require_object
from .errors import UNAUTHORIZED, ActiveCampaignError, invalid, not_found
from .store import ACCOUNT_TZ, Store, utc_text

PREFIX = "/api/3"
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
Handler = Callable[[Request], Awaitable[Response]]
ORDERS = {"id": "c.id", "cdate": "c.cdate_utc", "email": "c.email_lower",
          "first_name": "json_extract(c.doc, '$.firstName')",
          "last_name": "json_extract(c.doc, '$.lastName')",
          "name": "json_extract(c.doc, '$.firstName') || ' ' || json_extract(c.doc, '$.lastName')"}
DATE_FILTERS = {"created_after": ("c.cdate_utc", ">"), "created_before": ("c.cdate_utc", "<"),
                "updated_after": ("c.udate_utc", ">"), "updated_before": ("c.udate_utc", "<")}


class RateLimit:
    """A sliding one-second window over API requests (ActiveCampaign: 5 a second)."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.seen: deque[float] = deque()

    def admit(self) -> bool:
        moment = time.monotonic()
        while self.seen and moment - self.seen[0] >= 1.0:
            self.seen.popleft()
        if len(self.seen) >= self.per_second:
            return False
        self.seen.append(moment)
        return True


def base_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{PREFIX}"


def paging(request: Request) -> tuple[int, int]:
    """`limit` (default 20, at most 100) and `offset`; nonsense falls back to the defaults."""
    try:
        limit = int(request.query_params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        limit = DEFAULT_LIMIT
    try:
        offset = max(0, int(request.query_params.get("offset", 0)))
    except ValueError:
        offset = 0
    return (DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)), offset


def filter_moment(value: str) -> str:
    """A `filters[...]` date or datetime as stored UTC text; no zone means the account's."""
    text = value.strip().replace(" ", "T").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ActiveCampaignError(400, {}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ACCOUNT_TZ)
    return utc_text(moment)


async def read_json(request: Request) -> object:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        raise ActiveCampaignError(400, {}) from None


class Api:
    def __init__(self, settings: SandboxSettings, store: Store, account: Account) -> None:
        self.settings = settings
        self.store = store
        self.account = account
        self.limit = RateLimit(settings.activecampaign_rate_limit)

    def guarded(self, handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            if request.headers.get("api-token") != self.settings.activecampaign_api_token:
                return JSONResponse({"message": UNAUTHORIZED}, 403)
            if not self.limit.admit():
                return JSONResponse({"message": "Too Many Requests"}, 429,
                                    headers={"Retry-After": "1"})
            try:
                return await handler(request)
            except ActiveCampaignError as exc:
                return exc.response()
        return run

    # rendering

    def full_contact(self, doc: dict, base: str) -> tuple[dict, list[dict]]:
        values = self.store.field_values(contact_id=doc["id"], limit=1000)[0]
        return views.contact(doc, base), [views.field_value(v, base) for v in values]

    # contacts

    async def list_contacts(self, request: Request) -> Response:
        q = request.query_params
        where: list[str] = []
        args: list = []
        if q.get("email"):
            where.append("c.email_lower = ?")
            args.append(q["email"].strip().lower())
        if q.get("email_like"):
            where.append("c.email_lower LIKE ?")
            args.append(f"%{q['email_like'].strip().lower()}%")
        ids = [i for key in ("ids", "ids[]") for v in q.getlist(key) for i in v.split(",") if i]
        if ids:
            where.append(f"c.id IN ({','.join('?' * len(ids))})")
            args += [_int(i) for i in ids]
        for key, op in (("id_greater", ">"), ("id_less", "<")):
            if q.get(key):
                where.append(f"c.id {op} ?")
                args.append(_int(q[key]))
        status = _int(q.get("status", "-1"))
        if q.get("listid"):
            clause = ("EXISTS (SELECT 1 FROM contact_lists cl WHERE cl.contact = c.id AND "
                      "cl.list = ?")
            args.append(_int(q["listid"]))
            if status != -1:
                clause += " AND cl.status = ?"
                args.append(status)
            where.append(clause + ")")
        elif status != -1:
            where.append("EXISTS (SELECT 1 FROM contact_lists cl WHERE cl.contact = c.id AND "
                         "cl.status = ?)")
            args.append(status)
        if q.get("tagid"):
            where.append("EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact = c.id AND "
                         "ct.tag = ?)")
            args.append(_int(q["tagid"]))
        if q.get("search"):
            where.append("(c.email_lower LIKE ? OR lower(json_extract(c.doc, '$.firstName')) "
                         "LIKE ? OR lower(json_extract(c.doc, '$.lastName')) LIKE ?)")
            args += [f"%{q['search'].lower()}%"] * 3
        for name, (column, op) in DATE_FILTERS.items():
            value = q.get(f"filters[{name}]")
            if value:
                where.append(f"{column} {op} ?")
                args.append(filter_moment(value))
        order = []
        for name, column in ORDERS.items():
            direction = (q.get(f"orders[{name}]") or "").upper()
            if direction in ("ASC", "DESC"):
                order.append(f"{column} {direction}")
        # the API's own default order is by email address
        order_by = ", ".join([*order, "c.email_lower ASC", "c.id ASC"] if not order
                             else [*order, "c.id ASC"])
        limit, offset = paging(request)
        docs, total = self.store.query_contacts(where, args, order_by, limit, offset)
        base = base_of(request)
        meta = {**views.meta(total), "page_input": {
            "segmentid": 0, "formid": 0, "listid": _int(q.get("listid", "0")), "tagid": 0,
            "limit": limit, "offset": offset, "search": q.get("search"), "sort": None,
            "seriesid": 0, "waitid": 0, "status": status, "forceQuery": 0}}
        return JSONResponse({"scoreValues": [], "contacts": [views.contact(d, base) for d in docs],
                             "meta": meta})

    async def get_contact(self, request: Request) -> Response:
        doc = self.account.contact(request.path_params["id"])
        base = base_of(request)
        contact, values = self.full_contact(doc, base)
        memberships = [views.contact_list(r, base) for r in self.store.contact_lists(doc["id"])]
        contact["contactLists"] = [m["id"] for m in memberships]
        contact["fieldValues"] = [v["id"] for v in values]
        contact["contactAutomations"], contact["geoIps"], contact["deals"] = [], [], []
        contact["accountContacts"] = []
        return JSONResponse({"contactAutomations": [], "contactLists": memberships, "deals": [],
                             "fieldValues": values, "geoAddresses": [], "geoIps": [],
                             "accountContacts": [], "contact": contact})

    async def create_contact(self, request: Request) -> Response:
        fields = require_object(await read_json(request), "contact")
        with self.store.transaction():
            doc = self.account.create(fields, "api")
            if fields.get("fieldValues"):
                doc = self.account.field_values(doc, fields["fieldValues"], "api")
        contact, values = self.full_contact(doc, base_of(request))
        return JSONResponse({"fieldValues": values, "contact": contact}, 201)

    async def sync_contact(self, request: Request) -> Response:
        fields = require_object(await read_json(request), "contact")
        with self.store.transaction():
            doc, created = self.account.sync(fields, "api")
            if fields.get("fieldValues"):
                doc = self.account.field_values(doc, fields["fieldValues"], "api")
        contact, values = self.full_contact(doc, base_of(request))
        return JSONResponse({"fieldValues": values, "contact": contact}, 201 if created else 200)

    async def update_contact(self, request: Request) -> Response:
        fields = require_object(await read_json(request), "contact")
        with self.store.transaction():
            doc = self.account.contact(request.path_params["id"])
            doc, _ = self.account.update(doc, fields, "api")
            if fields.get("fieldValues"):
                doc = self.account.field_values(doc, fields["fieldValues"], "api")
        contact, values = self.full_contact(doc, base_of(request))
        return JSONResponse({"fieldValues": values, "contact": contact})

    async def delete_contact(self, request: Request) -> Response:
        ident = request.path_params["id"]
        with self.store.transaction():
            if not self.store.delete_contact(_int(ident)):
                raise ActiveCampaignError(404, {"message":
                                                f"No result found for contact with id {ident}"})
        return JSONResponse({})

    async def contact_lists(self, request: Request) -> Response:
        doc = self.account.contact(request.path_params["id"])
        base = base_of(request)
        return JSONResponse({"contactLists": [views.contact_list(r, base)
                                              for r in self.store.contact_lists(doc["id"])]})

    async def contact_tags(self, request: Request) -> Response:
        doc = self.account.contact(request.path_params["id"])
        base = base_of(request)
        return JSONResponse({"contactTags": [views.contact_tag(r, base)
                                             for r in self.store.contact_tags(doc["id"])]})

    async def contact_field_values(self, request: Request) -> Response:
        doc = self.account.contact(request.path_params["id"])
        return JSONResponse({"fieldValues": self.full_contact(doc, base_of(request))[1]})

    async def bounce_logs(self, request: Request) -> Response:
        doc = self.account.contact(request.path_params["id"])
        base = base_of(request)
        return JSONResponse({"bounceLogs": [views.bounce_log(r, base)
                                            for r in self.store.bounce_logs(doc["id"])]})

    # list statuses

    async def set_list_status(self, request: Request) -> Response:
        body = require_object(await read_json(request), "contactList")
        for key in ("list", "contact", "status"):
            if body.get(key) in (None, ""):
                raise invalid(f"The contactList {key} was not provided.", "field_missing",
                              f"/data/attributes/{key}")
        status = _int(body["status"])
        if status not in (SUBSCRIBED, UNSUBSCRIBED):
            raise invalid("Status must be 1 (subscribe) or 2 (unsubscribe)", "field_invalid",
                          "/data/attributes/status")
        list_id = as_id(body["list"], "List", "/data/attributes/list")
        with self.store.transaction():
            doc = self.account.contact(body["contact"])
            if self.store.list_(list_id) is None:
                raise not_found("List", list_id)
            self.account.set_status(doc, list_id, status, "api",
                                    "unsubscribed by API" if status == UNSUBSCRIBED else None)
            doc = self.store.contact(doc["id"]) or doc
        base = base_of(request)
        row = next(r for r in self.store.contact_lists(doc["id"]) if r["list"] == list_id)
        view = views.contact_list(row, base)
        view["status"] = status  # this answer carries the status as a number
        return JSONResponse({"contacts": [views.contact(doc, base)], "contactList": view})

    def routes(self) -> list[Route]:
        g, p = self.guarded, PREFIX
        return [
            Route(f"{p}/contacts", g(self.list_contacts), methods=["GET"]),
            Route(f"{p}/contacts", g(self.create_contact), methods=["POST"]),
            Route(f"{p}/contact/sync", g(self.sync_contact), methods=["POST"]),
            Route(f"{p}/contacts/{{id}}", g(self.get_contact), methods=["GET"]),
            Route(f"{p}/contacts/{{id}}", g(self.update_contact), methods=["PUT"]),
            Route(f"{p}/contacts/{{id}}", g(self.delete_contact), methods=["DELETE"]),
            Route(f"{p}/contacts/{{id}}/contactLists", g(self.contact_lists), methods=["GET"]),
            Route(f"{p}/contacts/{{id}}/contactTags", g(self.contact_tags), methods=["GET"]),
            Route(f"{p}/contacts/{{id}}/fieldValues", g(self.contact_field_values),
                  methods=["GET"]),
            Route(f"{p}/contacts/{{id}}/bounceLogs", g(self.bounce_logs), methods=["GET"]),
            Route(f"{p}/contactLists", g(self.set_list_status), methods=["POST"]),
        ]


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ActiveCampaignError(400, {}) from None
