"""The Autopilot v1 routes, under `/v1`, behind the `autopilotapikey` header and the rate limit."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..settings import SandboxSettings
from .contacts import Change, edit, upsert, validate
from .errors import AutopilotError, render_error
from .hooks import EVENTS, HookDelivery, is_loopback_url
from .store import Store, next_stamp

BULK_MAX = 100
Handler = Callable[[Request], Awaitable[Response]]


class RateLimit:
    """A sliding one-second window over API requests, as Autopilot's documented 5 r/s."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.seen: deque[float] = deque()

    def admit(self) -> bool:
        now = time.monotonic()
        while self.seen and now - self.seen[0] >= 1.0:
            self.seen.popleft()
        if len(self.seen) >= self.per_second:
            return False
        self.seen.append(now)
        return True


class Api:
    def __init__(self, settings: SandboxSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.hooks = HookDelivery(store, settings.autopilot_db, lambda doc: self.read([doc])[0])
        self.limit = RateLimit(settings.autopilot_rate_limit)

    def guarded(self, handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            key = request.headers.get("autopilotapikey")
            if key is None:
                return render_error(400, None, "No autopilotapikey header provided.")
            if key != self.settings.autopilot_api_key:
                return render_error(401, None, "Provided autopilotapikey not valid.")
            if not self.limit.admit():
                rate = f"{self.settings.autopilot_rate_limit:g}"
                return render_error(429, None,
                                    f"You have exceeded your request rate of {rate} r/s.")
            try:
                return await handler(request)
            except AutopilotError as exc:
                return render_error(exc.status, None, exc.message)
        return run

    # helpers

    def _contact(self, id_or_email: str) -> dict:
        found = self.store.find(id_or_email)
        if not found:
            raise AutopilotError(404, "Contact could not be found.")
        return found[0]

    def read(self, docs: list[dict]) -> list[dict]:
        lists = self.store.lists_of([d["contact_id"] for d in docs])
        return [{**d, "lists": lists[d["contact_id"]]} for d in docs]

    def _list_ref(self, contact: dict) -> str | None:
        """The list `_autopilot_list` names, by id or by title; refused when there is none."""
        ref = contact.get("_autopilot_list")
        if ref is None:
            return None
        if isinstance(ref, str) and self.store.list_exists(ref):
            return ref
        list_id = self.store.list_by_title(ref) if isinstance(ref, str) else None
        if list_id is None:
            raise AutopilotError(400, f"_autopilot_list {ref!r} names no list; create it with "
                                      "POST /list or give an existing list id.")
        return list_id

    def _write(self, contacts: list[dict]) -> list[Change]:
        """Upsert validated contacts in one transaction, then fire their hooks."""
        targets = [self._list_ref(contact) for contact in contacts]
        changes = []
        with self.store.transaction():
            for contact, list_id in zip(contacts, targets, strict=True):
                change = upsert(self.store, contact)
                if change.created and list_id is not None:
                    self.store.add_member(list_id, change.doc["contact_id"])
                changes.append(change)
        for contact, change in zip(contacts, changes, strict=True):
            self.hooks.fire(change.events, change.doc, contact.get("notify") is not False)
        return changes

    def _paged(self, list_id: str | None, bookmark: str | None) -> Response:
        try:
            docs, more = self.store.page(bookmark, list_id)
        except KeyError as exc:
            raise AutopilotError(400, f"Bookmark {bookmark!r} is not valid; start again "
                                      "without one.") from exc
        body: dict = {"contacts": self.read(docs), "total_contacts": self.store.count(list_id)}
        if more:
            body["bookmark"] = docs[-1]["contact_id"]
        return JSONResponse(body)

    # contacts

    async def upsert_one(self, request: Request) -> Response:
        body = await _json(request)
        contact = body.get("contact") if isinstance(body, dict) else None
        if contact is None:
            raise AutopilotError(400, 'Send the contact as {"contact": {"Email": ...}}.')
        change, = self._write([validate(self.store, contact)])
        return JSONResponse({"contact_id": change.doc["contact_id"]})

    async def upsert_bulk(self, request: Request) -> Response:
        body = await _json(request)
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(contacts, list) or not contacts:
            raise AutopilotError(400, 'Send {"contacts": [...]} with at least one contact.')
        if len(contacts) > BULK_MAX:
            raise AutopilotError(400, f"At most {BULK_MAX} contacts can be sent in one call; "
                                      f"got {len(contacts)}.")
        for n, contact in enumerate(contacts):
            try:
                validate(self.store, contact)
                self._list_ref(contact)
            except AutopilotError as exc:
                raise AutopilotError(400, f"contacts[{n}]: {exc.message} Nothing was "
                                          "saved.") from exc
        changes = self._write(contacts)
        return JSONResponse({"contact_ids": [c.doc["contact_id"] for c in changes]})

    async def get_one(self, request: Request) -> Response:
        return JSONResponse(self.read([self._contact(request.path_params["ref"])])[0])

    async def delete_one(self, request: Request) -> Response:
        found = self.store.find(request.path_params["ref"])
        if not found:
            raise AutopilotError(404, "Contact could not be found.")
        with self.store.transaction():
            self.store.delete([d["contact_id"] for d in found])
        return Response(status_code=204)

    async def unsubscribe(self, request: Request) -> Response:
        doc = self._contact(request.path_params["ref"])
        with self.store.transaction():
            change = edit(self.store, doc, {"unsubscribed": True})
        self.hooks.fire(change.events, change.doc)
        return JSONResponse({})

    async def contacts_page(self, request: Request) -> Response:
        return self._paged(None, request.path_params.get("bookmark"))

    async def custom_fields(self, request: Request) -> Response:
        return JSONResponse(self.store.custom_fields())

    # lists

    async def lists(self, request: Request) -> Response:
        return JSONResponse({"lists": self.store.lists()})

    async def create_list(self, request: Request) -> Response:
        body = await _json(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise AutopilotError(400, 'Send the list\'s name as {"name": "..."}.')
        with self.store.transaction():
            if self.store.list_by_title(name) is not None:
                raise AutopilotError(409, "A list with this name already exists.")
            return JSONResponse({"list_id": self.store.create_list(name)})

    def _list(self, request: Request) -> str:
        list_id = request.path_params["list_id"]
        if not self.store.list_exists(list_id):
            raise AutopilotError(404, "List could not be found.")
        return list_id

    async def list_contacts(self, request: Request) -> Response:
        return self._paged(self._list(request), request.path_params.get("bookmark"))

    async def membership(self, request: Request) -> Response:
        list_id = self._list(request)
        doc = self._contact(request.path_params["ref"])
        if request.method == "GET":
            if not self.store.is_member(list_id, doc["contact_id"]):
                raise AutopilotError(404, "Contact is not in this list.")
            return JSONResponse({})
        with self.store.transaction():
            if request.method == "POST":
                changed = self.store.add_member(list_id, doc["contact_id"])
                event = "contact_added_to_list"
            else:
                changed = self.store.remove_member(list_id, doc["contact_id"])
                event = "contact_removed_from_list"
            if changed:
                doc = {**doc, "updated_at": next_stamp(doc.get("updated_at"))}
                self.store.save(doc)
        if changed:
            self.hooks.fire([event], doc)
        return JSONResponse({})

    async def segments(self, request: Request) -> Response:
        return JSONResponse({"segments": []})

    async def segment_contacts(self, request: Request) -> Response:
        raise AutopilotError(404, "Segment could not be found.")

    # hooks

    async def add_hook(self, request: Request) -> Response:
        body = await _json(request)
        event, url = (body.get("event"), body.get("target_url")) if isinstance(body, dict) \
            else (None, None)
        if event not in EVENTS:
            raise AutopilotError(400, f"event must be one of {', '.join(EVENTS)}; got {event!r}.")
        if not isinstance(url, str) or not is_loopback_url(url):
            raise AutopilotError(400, f"target_url {url!r} must be an http(s) URL on 127.0.0.1 "
                                      "or localhost: the sandbox calls nothing else.")
        return JSONResponse({"hook_id": self.store.add_hook(event, url)})

    async def list_hooks(self, request: Request) -> Response:
        return JSONResponse({"hooks": self.store.hooks()})

    async def delete_hook(self, request: Request) -> Response:
        if not self.store.delete_hook(request.path_params["hook_id"]):
            raise AutopilotError(404, "Hook could not be found.")
        return Response(status_code=204)

    def routes(self) -> list[Route]:
        g, v = self.guarded, "/v1"
        return [
            Route(f"{v}/contact", g(self.upsert_one), methods=["POST"]),
            Route(f"{v}/contacts", g(self.upsert_bulk), methods=["POST"]),
            Route(f"{v}/contacts", g(self.contacts_page), methods=["GET"]),
            Route(f"{v}/contacts/custom_fields", g(self.custom_fields), methods=["GET"]),
            Route(f"{v}/contacts/{{bookmark}}", g(self.contacts_page), methods=["GET"]),
            Route(f"{v}/contact/{{ref}}", g(self.get_one), methods=["GET"]),
            Route(f"{v}/contact/{{ref}}", g(self.delete_one), methods=["DELETE"]),
            Route(f"{v}/contact/{{ref}}/unsubscribe", g(self.unsubscribe), methods=["POST"]),
            Route(f"{v}/lists", g(self.lists), methods=["GET"]),
            Route(f"{v}/list", g(self.create_list), methods=["POST"]),
            Route(f"{v}/list/{{list_id}}/contacts", g(self.list_contacts), methods=["GET"]),
            Route(f"{v}/list/{{list_id}}/contacts/{{bookmark}}", g(self.list_contacts),
                  methods=["GET"]),
            Route(f"{v}/list/{{list_id}}/contact/{{ref}}", g(self.membership),
                  methods=["GET", "POST", "DELETE"]),
            Route(f"{v}/smart_segments", g(self.segments), methods=["GET"]),
            Route(f"{v}/smart_segments/{{segment_id}}/contacts", g(self.segment_contacts),
                  methods=["GET"]),
            Route(f"{v}/smart_segments/{{segment_id}}/contacts/{{bookmark}}",
                  g(self.segment_contacts), methods=["GET"]),
            Route(f"{v}/hook", g(self.add_hook), methods=["POST"]),
            Route(f"{v}/hooks", g(self.list_hooks), methods=["GET"]),
            Route(f"{v}/hook/{{hook_id}}", g(self.delete_hook), methods=["DELETE"]),
        ]


async def _json(request: Request) -> object:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise AutopilotError(400, "The request body is not valid JSON.") from exc
