"""The admin surface under `/_sandbox/`: seed, read and edit contacts as a user would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from itertools import islice

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..instrument import ADMIN_PREFIX
from .api import Api
from .contacts import Change, edit, hard_bounce, mail_event
from .errors import AutopilotError, render_error
from .store import Store, new_contact_id, now_iso

CHUNK = 1000


def admin_routes(api: Api) -> list[Route]:
    store, p = api.store, ADMIN_PREFIX

    async def reset(request: Request) -> Response:
        store.reset()
        api.hooks.forget()
        return JSONResponse({"ok": True})

    async def all_contacts(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            # streamed a thousand at a time: a million contacts never sit in memory at once
            rows, sep = store.every(), "["
            while chunk := list(islice(rows, CHUNK)):
                yield (sep + ",".join(json.dumps(doc) for doc in api.read(chunk))).encode()
                sep = ","
            yield b"[]" if sep == "[" else b"]"
        return StreamingResponse(body(), media_type="application/json")

    async def seed(request: Request) -> Response:
        """Rows as given, no validation: legacy timestamps and malformed emails included."""
        rows = json.loads(await request.body())
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return render_error(400, None, "Send a JSON array of contact objects.")
        ids = []
        with store.transaction():
            for row in rows:
                stamp = now_iso()
                doc = {"unsubscribed": False, "created_at": stamp, "updated_at": stamp,
                       **{k: v for k, v in row.items() if k != "lists"},
                       "contact_id": row.get("contact_id") or new_contact_id()}
                store.save(doc)
                for title in row.get("lists") or ():
                    list_id = store.list_by_title(title) or store.create_list(title)
                    store.add_member(list_id, doc["contact_id"])
                ids.append(doc["contact_id"])
        return JSONResponse({"contact_ids": ids})

    async def change_one(request: Request, apply: str) -> Response:
        found = store.find(request.path_params["ref"])
        if not found:
            return render_error(404, None, "Contact could not be found.")
        changes = json.loads(await request.body() or b"{}") if apply != "bounce" else {}
        if not isinstance(changes, dict):
            return render_error(400, None, "Send the fields to change as a JSON object.")
        try:
            with store.transaction():
                change: Change = (edit(store, found[0], changes) if apply == "edit"
                                  else _mail(store, found[0], changes) if apply == "mail"
                                  else hard_bounce(store, found[0]))
        except AutopilotError as exc:
            return render_error(exc.status, None, exc.message)
        api.hooks.fire(change.events, change.doc)
        return JSONResponse(api.read([change.doc])[0])

    async def user_edit(request: Request) -> Response:
        return await change_one(request, "edit")

    async def bounce(request: Request) -> Response:
        return await change_one(request, "bounce")

    async def mail(request: Request) -> Response:
        return await change_one(request, "mail")

    async def remove(request: Request) -> Response:
        found = store.find(request.path_params["ref"])
        with store.transaction():
            store.delete([d["contact_id"] for d in found])
        return Response(status_code=204 if found else 404)

    async def deliveries(request: Request) -> Response:
        return JSONResponse(list(api.hooks.delivered))

    async def dropped(request: Request) -> Response:
        return JSONResponse(list(api.hooks.dropped))

    return [
        Route(f"{p}/reset", reset, methods=["POST"]),
        Route(f"{p}/contacts", all_contacts, methods=["GET"]),
        Route(f"{p}/contacts", seed, methods=["POST"]),
        Route(f"{p}/contacts/{{ref}}", user_edit, methods=["POST"]),
        Route(f"{p}/contacts/{{ref}}", remove, methods=["DELETE"]),
        Route(f"{p}/contacts/{{ref}}/hardbounce", bounce, methods=["POST"]),
        Route(f"{p}/contacts/{{ref}}/mail", mail, methods=["POST"]),
        Route(f"{p}/hooks/deliveries", deliveries, methods=["GET"]),
        Route(f"{p}/hooks/dropped", dropped, methods=["GET"]),
    ]


def _mail(store: Store, doc: dict, body: dict) -> Change:
    """`{"event": "opened", "mail_id"?: ..., "at"?: epoch ms}`: one mail event on the contact."""
    at = body.get("at")
    if at is not None and (isinstance(at, bool) or not isinstance(at, int)):
        raise AutopilotError(400, "at must be epoch milliseconds.")
    mail_id = body.get("mail_id")
    return mail_event(store, doc, str(body.get("event") or ""),
                      str(mail_id) if mail_id else None, at)
