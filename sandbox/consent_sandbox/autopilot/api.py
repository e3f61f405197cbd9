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
from .contacts import upsert, validate
from .errors import AutopilotError, render_error
from .hooks import HookDelivery
from .store import Store, now_iso

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
    def __init__(self, settings: SandboxSettings, store: Store, hooks: HookDelivery) -> None:
        self.settings = settings
        self.store = store
        self.hooks = hooks
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
            for hook_id in list(self.hooks.gone):
                self.store.delete_hook(hook_id)
                self.hooks.gone.remove(hook_id)
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

    def _write(self, contact: dict) -> dict:
        with self.store.transaction():
            change = upsert(self.store, contact)
            list_ref = contact.get("_autopilot_list")
            if change.created and list_ref:
                list_id = list_ref if self.store.list_exists(list_ref) else \
                    self.store.list_by_title(list_ref)
                if list_id is None:
                    raise AutopilotError(400, f"List {list_ref!r} does not exist.")
                self.store.add_member(list_id, change.doc["contact_id"])
        self.hooks.fire(change.events, change.doc, contact.get("notify") is not False)
        return change.doc

    # routes

    async def upsert_one(self, request: Request) -> Response:
        body = await _json(request)
        contact = body.get("contact") if isinstance(body, dict) else None
        doc = self._write(validate(self.store, contact))
        return JSONResponse({"contact_id": doc["contact_id"]})

    async def upsert_bulk(self, request: Request) -> Response:
        body = await _json(request)
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(contacts, list) or not contacts:
            raise AutopilotError(400, "Provide contacts as a non-empty array.")
        if len(contacts) > BULK_MAX:
            raise AutopilotError(400, f"At most {BULK_MAX} contacts can be sent in one call; "
                                      f"got {len(contacts)}.")
        for n, contact in enumerate(contacts):
            try:
                validate(self.store, contact)
            except AutopilotError as exc:
                raise AutopilotError(400, f"contacts[{n}]: {exc.message}") from exc
        ids = [self._write(contact)["contact_id"] for contact in contacts]
        return JSONResponse({"contact_ids": ids})

    async def get_one(self, request: Request) -> Response:
        return JSONResponse(self.read([self._contact(request.path_params["ref"])])[0])

    async def delete_one(self, request: Request) -> Response:
        ref = request.path_params["ref"]
        found = self.store.find(ref)
        if not found:
            raise AutopilotError(404, "Contact could not be found.")
        with self.store.transaction():
            self.store.delete([d["contact_id"] for d in found])
        return Response(status_code=204)

    async def unsubscribe(self, request: Request) -> Response:
        doc = self._contact(request.path_params["ref"])
        self._write({"Email": doc["Email"], "unsubscribed": True})
        return JSONResponse({})

    async def contacts_page(self, request: Request) -> Response:
        bookmark = request.path_params.get("bookmark")
        try:
            docs, more = self.store.page(bookmark)
        except KeyError as exc:
            raise AutopilotError(400, f"Bookmark {bookmark!r} is not valid.") from exc
        body: dict = {"contacts": self.read(docs), "total_contacts": self.store.count()}
        if more:
            body["bookmark"] = docs[-1]["contact_id"]
        return JSONResponse(body)

    async def custom_fields(self, request: Request) -> Response:
        return JSONResponse(self.store.custom_fields())

    async def lists(self, request: Request) -> Response:
        return JSONResponse({"lists": self.store.lists()})

    async def create_list(self, request: Request) -> Response:
        body = await _json(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise AutopilotError(400, "Provide the list's name.")
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
        list_id = self._list(request)
        bookmark = request.path_params.get("bookmark")
        try:
            docs, more = self.store.page(bookmark, list_id)
        except KeyError as exc:
            raise AutopilotError(400, f"Bookmark {bookmark!r} is not valid.") from exc
        body: dict = {"contacts": self.read(docs), "total_contacts": self.store.count(list_id)}
        if more:
            body["bookmark"] = docs[-1]["contact_id"]
        return JSONResponse(body)

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
                doc = {**doc, "updated_at": now_iso()}
                self.store.save(doc)
        if changed:
            self.hooks.fire([event], doc)
        return JSONResponse({})

    async def segments(self, request: Request) -> Response:
        return JSONResponse({"segments": []})

    async def add_hook(self, request: Request) -> Response:
        body = await _json(request)
        event, url = (body.get("event"), body.get("target_url")) if isinstance(body, dict) \
            else (None, None)
        if not isinstance(event, str) or not isinstance(url, str):
            raise AutopilotError(400, "Provide event and target_url.")
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
            Route(f"{v}/hook", g(self.add_hook), methods=["POST"]),
            Route(f"{v}/hooks", g(self.list_hooks), methods=["GET"]),
            Route(f"{v}/hook/{{hook_id}}", g(self.delete_hook), methods=["DELETE"]),
        ]


async def _json(request: Request) -> object:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise AutopilotError(400, "The request body is not valid JSON.") from exc
