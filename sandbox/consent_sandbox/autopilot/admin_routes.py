"""The admin surface under `/_sandbox/`: seed, read and edit contacts as a user would."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..instrument import ADMIN_PREFIX
from .api import Api
from .contacts import edit, hard_bounce
from .errors import AutopilotError, render_error
from .store import new_contact_id, now_iso


def admin_routes(api: Api) -> list[Route]:
    store, p = api.store, ADMIN_PREFIX

    async def reset(request: Request) -> Response:
        store.reset()
        api.hooks.delivered.clear()
        return JSONResponse({"ok": True})

    async def all_contacts(request: Request) -> Response:
        return JSONResponse(api.read(store.all()))

    async def seed(request: Request) -> Response:
        rows = json.loads(await request.body())
        docs = []
        with store.transaction():
            for row in rows:
                doc = {"unsubscribed": False, "created_at": now_iso(), "updated_at": now_iso(),
                       **{k: v for k, v in row.items() if k != "lists"},
                       "contact_id": row.get("contact_id") or new_contact_id()}
                docs.append(doc)
                store.save(doc)
                for title in row.get("lists") or ():
                    list_id = store.list_by_title(title) or store.create_list(title)
                    store.add_member(list_id, doc["contact_id"])
        return JSONResponse({"contact_ids": [d["contact_id"] for d in docs]})

    def one(ref: str) -> dict:
        found = store.find(ref)
        if not found:
            raise AutopilotError(404, "Contact could not be found.")
        return found[0]

    async def user_edit(request: Request) -> Response:
        try:
            doc = one(request.path_params["ref"])
            with store.transaction():
                change = edit(store, doc, json.loads(await request.body()))
        except AutopilotError as exc:
            return render_error(exc.status, None, exc.message)
        api.hooks.fire(change.events, change.doc)
        return JSONResponse(api.read([change.doc])[0])

    async def bounce(request: Request) -> Response:
        try:
            doc = one(request.path_params["ref"])
        except AutopilotError as exc:
            return render_error(exc.status, None, exc.message)
        with store.transaction():
            change = hard_bounce(store, doc)
        api.hooks.fire(change.events, change.doc)
        return JSONResponse(api.read([change.doc])[0])

    async def remove(request: Request) -> Response:
        found = store.find(request.path_params["ref"])
        with store.transaction():
            store.delete([d["contact_id"] for d in found])
        return Response(status_code=204 if found else 404)

    async def deliveries(request: Request) -> Response:
        return JSONResponse(list(api.hooks.delivered))

    return [
        Route(f"{p}/reset", reset, methods=["POST"]),
        Route(f"{p}/contacts", all_contacts, methods=["GET"]),
        Route(f"{p}/contacts", seed, methods=["POST"]),
        Route(f"{p}/contacts/{{ref}}", user_edit, methods=["POST"]),
        Route(f"{p}/contacts/{{ref}}", remove, methods=["DELETE"]),
        Route(f"{p}/contacts/{{ref}}/hardbounce", bounce, methods=["POST"]),
        Route(f"{p}/hooks/deliveries", deliveries, methods=["GET"]),
    ]
