"""The admin surface under `/_sandbox/`: seed, read and edit contacts as a person would, switch
the unconfirmed list-status behaviour, read webhook deliveries."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..instrument import ADMIN_PREFIX
from .account import BOUNCED, SUBSCRIBED, UNSUBSCRIBED, Account
from .api import RateLimit
from .errors import ActiveCampaignError
from .store import account_time, utc_text

STATUS_NAMES = {"active": SUBSCRIBED, "subscribed": SUBSCRIBED, "unsubscribed": UNSUBSCRIBED,
                "bounced": BOUNCED, "unconfirmed": 0}


def snapshot(account: Account, doc: dict) -> dict:
    """A contact with its list statuses, tag names and field values by title."""
    store = account.store
    titles = {f["id"]: f["title"] for f in store.fields()}
    return {**doc, "id": str(doc["id"]),
            "lists": [{"list": str(r["list"]), "status": r["status"], "udate": r["udate"]}
                      for r in store.contact_lists(doc["id"])],
            "tags": [t["name"] for t in store.contact_tags(doc["id"])],
            "fields": {titles[v["field"]]: v["value"]
                       for v in store.field_values(contact_id=doc["id"], limit=1000)[0]}}


def admin_routes(account: Account, limit: RateLimit) -> list[Route]:
    store, p = account.store, ADMIN_PREFIX

    def find(ref: str) -> dict:
        doc = store.contact(int(ref)) if ref.isdigit() else store.contact_by_email(ref)
        if doc is None:
            raise ActiveCampaignError(404, {"message": f"No contact {ref!r}"})
        return doc

    def list_id(ref: object) -> int:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return int(ref)
        row = store.db.execute("SELECT id FROM lists WHERE name = ?", (ref,)).fetchone()
        if row:
            return row[0]
        stamp = account_time()
        return store.create_list({"name": str(ref), "stringid": str(ref).lower(),
                                  "cdate": stamp, "udate": stamp})["id"]

    async def reset(request: Request) -> Response:
        store.reset()
        account.hooks.forget()
        return JSONResponse({"ok": True})

    async def settings(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        if "list_status_moves_udate" in body:
            account.settings.activecampaign_list_status_moves_udate = bool(
                body["list_status_moves_udate"])
        if "rate_limit" in body:  # requests a second before 429
            limit.per_second = float(body["rate_limit"])
            limit.seen.clear()
        return JSONResponse({"list_status_moves_udate":
                             account.settings.activecampaign_list_status_moves_udate,
                             "rate_limit": limit.per_second})

    async def all_contacts(request: Request) -> Response:
        return JSONResponse([snapshot(account, d) for d in store.every_contact()])

    async def seed(request: Request) -> Response:
        """Contacts as given (no email check): `lists` maps list names or ids to a status
        (`active`, `unsubscribed`, `bounced`, `unconfirmed` or 0-3), `tags` and `fields`
        (title -> value) are created as needed, `udate` (ISO, any zone) may be in the past."""
        rows = json.loads(await request.body())
        if not isinstance(rows, list):
            return JSONResponse({"message": "Send a JSON array of contacts."}, 400)
        ids = []
        with store.transaction():
            for row in rows:
                moment = datetime.fromisoformat(row["udate"].replace("Z", "+00:00")) \
                    if row.get("udate") else datetime.now(UTC)
                doc = {k: str(v) for k, v in row.items()
                       if k in ("email", "firstName", "lastName", "phone", "orgname",
                                "bounced_hard", "bounced_soft")}
                doc = store.insert_contact(doc, moment)
                for ref, status in (row.get("lists") or {}).items():
                    code = STATUS_NAMES.get(status, status) if isinstance(status, str) else status
                    store.set_list_status(doc["id"], list_id(ref), int(code), moment)
                for name in row.get("tags") or []:
                    tag_id = store.tag_by_name(name) or store.create_tag(name)
                    store.tag_contact(doc["id"], tag_id)
                for title, value in (row.get("fields") or {}).items():
                    field_id = store.field_by_title(title) or store.create_field(
                        title, "text", title.upper().replace(" ", "_"))["id"]
                    store.set_field_value(doc["id"], field_id, value)
                store.db.execute("UPDATE contacts SET udate_utc = ? WHERE id = ?",
                                 (utc_text(moment), doc["id"]))
                ids.append(str(doc["id"]))
        return JSONResponse({"ids": ids})

    async def change(request: Request, what: str) -> Response:
        try:
            doc = find(request.path_params["ref"])
            body = json.loads(await request.body() or b"{}")
            with store.transaction():
                if what == "edit":
                    doc, _ = account.update(doc, body, "admin")
                elif what == "hardbounce":
                    doc = account.hard_bounce(doc)
                elif what == "unsubscribe":  # the contact clicks "unsubscribe" in an email
                    targets = body.get("lists")
                    if targets is None:
                        account.unsubscribe_everywhere(doc, "public")
                    for ref in targets or []:
                        account.set_status(doc, list_id(ref), UNSUBSCRIBED, "public",
                                           "unsubscribed by the contact")
                else:  # subscribe: the contact signs up through a form
                    account.set_status(doc, list_id(body["list"]), SUBSCRIBED, "public")
                doc = store.contact(doc["id"]) or doc
        except ActiveCampaignError as exc:
            return exc.response()
        return JSONResponse(snapshot(account, doc))

    async def edit(request: Request) -> Response:
        return await change(request, "edit")

    async def hardbounce(request: Request) -> Response:
        return await change(request, "hardbounce")

    async def unsubscribe(request: Request) -> Response:
        return await change(request, "unsubscribe")

    async def subscribe(request: Request) -> Response:
        return await change(request, "subscribe")

    async def remove(request: Request) -> Response:
        try:
            doc = find(request.path_params["ref"])
        except ActiveCampaignError:
            return Response(status_code=404)
        with store.transaction():
            store.delete_contact(doc["id"])
        return Response(status_code=204)

    async def deliveries(request: Request) -> Response:
        return JSONResponse(list(account.hooks.delivered))

    return [
        Route(f"{p}/reset", reset, methods=["POST"]),
        Route(f"{p}/settings", settings, methods=["GET", "POST"]),
        Route(f"{p}/contacts", all_contacts, methods=["GET"]),
        Route(f"{p}/contacts", seed, methods=["POST"]),
        Route(f"{p}/contacts/{{ref}}", edit, methods=["POST"]),
        Route(f"{p}/contacts/{{ref}}", remove, methods=["DELETE"]),
        Route(f"{p}/contacts/{{ref}}/hardbounce", hardbounce, methods=["POST"]),
        Route(f"{p}/contacts/{{ref}}/unsubscribe", unsubscribe, methods=["POST"]),
        Route(f"{p}/contacts/{{ref}}/subscribe", subscribe, methods=["POST"]),
        Route(f"{p}/webhooks/deliveries", deliveries, methods=["GET"]),
    ]
