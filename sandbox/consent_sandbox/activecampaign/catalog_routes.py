"""Account-wide routes: lists, tags and contactTags, custom fields and fieldValues, webhooks,
the bulk import and its status, `users/me`."""

from __future__ import annotations

import re

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import views
from .account import as_id, now, require_object
from .api import PREFIX, Api, base_of, paging, read_json
from .bulk_import import BulkImports
from .errors import ActiveCampaignError, invalid, not_found
from .hooks import EVENTS, SOURCES, is_loopback_url
from .store import account_time

FIELD_TYPES = ("text", "textarea", "date", "datetime", "dropdown", "listbox", "radio",
               "checkbox", "hidden", "number")


def _missing(what: str, detail: str) -> ActiveCampaignError:
    return ActiveCampaignError(404, {"errors": [{"status": 404, "title": "Not Found",
                                                 "detail": detail}]})


def catalog_routes(api: Api) -> list[Route]:
    store, account, g, p = api.store, api.account, api.guarded, PREFIX
    imports = BulkImports(account)

    async def lists(request: Request) -> Response:
        limit, offset = paging(request)
        rows, total = store.lists(limit, offset)
        base = base_of(request)
        return JSONResponse({"lists": [views.list_(r, base) for r in rows],
                             "meta": views.meta(total)})

    async def create_list(request: Request) -> Response:
        body = require_object(await read_json(request), "list")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("List name is required", "field_missing", "/data/attributes/name")
        stamp = account_time()
        doc = {"name": name.strip(), "stringid": body.get("stringid")
               or re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-"),
               "sender_url": body.get("sender_url"), "sender_reminder":
               body.get("sender_reminder"), "cdate": stamp, "udate": stamp}
        with store.transaction():
            row = store.create_list(doc)
        return JSONResponse({"list": views.list_(row, base_of(request))})

    async def get_list(request: Request) -> Response:
        row = store.list_(_id(request))
        if row is None:
            raise not_found("List", request.path_params["id"])
        return JSONResponse({"list": views.list_(row, base_of(request))})

    async def tags(request: Request) -> Response:
        limit, offset = paging(request)
        rows, total = store.tags(request.query_params.get("search"), limit, offset)
        base = base_of(request)
        return JSONResponse({"tags": [views.tag(r, base) for r in rows],
                             "meta": views.meta(total)})

    async def create_tag(request: Request) -> Response:
        body = require_object(await read_json(request), "tag")
        name = body.get("tag")
        if not isinstance(name, str) or not name.strip():
            raise invalid("Missing attribute", "field_missing", "/data/attributes/tag")
        with store.transaction():
            if store.tag_by_name(name) is not None:
                raise invalid("Duplicate tag", "duplicate", "/data/attributes/tag",
                              f"A tag named {name.strip()!r} already exists")
            tag_id = store.create_tag(name, body.get("tagType") or "contact",
                                      body.get("description") or "")
        return JSONResponse({"tag": views.tag(_tag(tag_id), base_of(request))}, 201)

    def _tag(tag_id: int) -> dict:
        found = store.db.execute("SELECT id, tag, tag_type, description, cdate FROM tags "
                                 "WHERE id = ?", (tag_id,)).fetchone()
        if found is None:
            raise not_found("Tag", tag_id)
        return {"id": found[0], "tag": found[1], "tagType": found[2], "description": found[3],
                "cdate": found[4]}

    async def get_tag(request: Request) -> Response:
        return JSONResponse({"tag": views.tag(_tag(_id(request)), base_of(request))})

    async def add_contact_tag(request: Request) -> Response:
        body = require_object(await read_json(request), "contactTag")
        for key in ("contact", "tag"):
            if body.get(key) in (None, ""):
                raise ActiveCampaignError(422, {"errors": [{
                    "status": 422, "title": "Missing attribute",
                    "source": {"pointer": f"/data/attributes/{key}"}}]})
        with store.transaction():
            doc = store.contact(as_id(body["contact"], "Contact", "/data/attributes/contact"))
            if doc is None:
                raise _missing("contact", "Contact not found")
            tag_id = as_id(body["tag"], "Tag", "/data/attributes/tag")
            if not store.tag_exists(tag_id):
                raise _missing("tag", "Tag not found")
            row, added = store.tag_contact(doc["id"], tag_id)
        if added:
            account.hooks.fire("contact_tag_added", "api", doc)
        return JSONResponse({"contactTag": views.contact_tag(row, base_of(request))}, 201)

    async def remove_contact_tag(request: Request) -> Response:
        with store.transaction():
            row = store.contact_tag(_id(request))
            if row is None or not store.untag(row["id"]):
                raise not_found("SubscriberTag", request.path_params["id"])
        doc = store.contact(row["contact"])
        if doc:
            account.hooks.fire("contact_tag_removed", "api", doc)
        return JSONResponse({})

    async def fields(request: Request) -> Response:
        limit, offset = paging(request)
        rows = store.fields()
        base = base_of(request)
        return JSONResponse({"fieldOptions": [], "fieldRels": [],
                             "fields": [views.field(r, base) for r in rows[offset:offset + limit]],
                             "meta": views.meta(len(rows))})

    async def create_field(request: Request) -> Response:
        body = require_object(await read_json(request), "field")
        title, kind = body.get("title"), body.get("type") or "text"
        if not isinstance(title, str) or not title.strip():
            raise invalid("Field title is required", "field_missing", "/data/attributes/title")
        if kind not in FIELD_TYPES:
            raise invalid(f"Field type must be one of {', '.join(FIELD_TYPES)}", "field_invalid",
                          "/data/attributes/type")
        with store.transaction():
            if store.field_by_title(title) is not None:
                raise ActiveCampaignError(422, {"errors": [{
                    "title": "There is already a field with this title",
                    "detail": f"There is already a field named '{title.strip()}' -- choose "
                              "another name", "code": "duplicate"}]})
            perstag = body.get("perstag") or re.sub(r"[^A-Z0-9]+", "_", title.upper()).strip("_")
            row = store.create_field(title, kind, perstag)
        return JSONResponse({"field": views.field(row, base_of(request))}, 201)

    async def field_values(request: Request) -> Response:
        limit, offset = paging(request)
        q = request.query_params
        field_id = q.get("filters[fieldid]")
        rows, total = store.field_values(field_id=int(field_id) if field_id and
                                         field_id.isdigit() else None,
                                         limit=limit, offset=offset)
        base = base_of(request)
        return JSONResponse({"fieldValues": [views.field_value(r, base) for r in rows],
                             "meta": views.meta(total)})

    async def set_field_value(request: Request) -> Response:
        body = require_object(await read_json(request), "fieldValue")
        with store.transaction():
            doc = account.contact(body.get("contact"))
            doc = account.field_values(doc, [{"field": body.get("field"),
                                              "value": body.get("value")}], "api")
        base = base_of(request)
        row = next(v for v in store.field_values(contact_id=doc["id"], limit=1000)[0]
                   if str(v["field"]) == str(body.get("field")))
        return JSONResponse({"contacts": [views.contact(doc, base)],
                             "fieldValue": views.field_value(row, base)})

    # webhooks

    async def add_webhook(request: Request) -> Response:
        body = require_object(await read_json(request), "webhook")
        url, events = body.get("url"), body.get("events")
        sources = body.get("sources") or list(SOURCES)
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise invalid("Webhook name is required", "field_missing", "/data/attributes/name")
        if not isinstance(url, str) or not is_loopback_url(url):
            raise invalid("Webhook url must be an http(s) URL on 127.0.0.1 or localhost: the "
                          "sandbox calls nothing else", "field_invalid", "/data/attributes/url")
        if not isinstance(events, list) or not events or set(events) - set(EVENTS):
            raise invalid(f"events must be a list of {', '.join(EVENTS)}", "field_invalid",
                          "/data/attributes/events")
        if not isinstance(sources, list) or set(sources) - set(SOURCES):
            raise invalid(f"sources must be a list of {', '.join(SOURCES)}", "field_invalid",
                          "/data/attributes/sources")
        with store.transaction():
            row = store.add_webhook({"name": body["name"], "url": url, "events": events,
                                     "sources": sources, "listid": str(body.get("listid") or 0),
                                     "cdate": account_time()})
        return JSONResponse({"webhook": views.webhook(row)}, 201)

    async def webhooks(request: Request) -> Response:
        rows = store.webhooks()
        return JSONResponse({"webhooks": [views.webhook(r) for r in rows],
                             "meta": views.meta(len(rows))})

    async def get_webhook(request: Request) -> Response:
        row = store.webhook(_id(request))
        if row is None:
            raise not_found("Webhook", request.path_params["id"])
        return JSONResponse({"webhook": views.webhook(row)})

    async def delete_webhook(request: Request) -> Response:
        with store.transaction():
            if not store.delete_webhook(_id(request)):
                raise not_found("Webhook", request.path_params["id"])
        return JSONResponse({})

    # bulk import

    async def bulk_import(request: Request) -> Response:
        raw = await request.body()
        batch_id, contacts = imports.queue(raw, await read_json(request))

        async def run() -> None:  # on the event loop, like every other store access
            imports.process(batch_id, contacts)

        return JSONResponse({"success": 1, "queued_contacts": len(contacts),
                             "batchId": batch_id, "message": "Contact import queued"},
                            background=BackgroundTask(run))

    async def import_list(request: Request) -> Response:
        return JSONResponse(store.import_summary())

    async def import_info(request: Request) -> Response:
        batch_id = request.query_params.get("batchId")
        if not batch_id:
            raise ActiveCampaignError(400, {"success": 0,
                                            "message": "'batchId' is a required field."})
        info = store.import_info(batch_id)
        if info is None:
            raise ActiveCampaignError(404, {"success": 0, "message":
                                            f"No import found with batchId {batch_id}"})
        return JSONResponse(info)

    async def me(request: Request) -> Response:
        return JSONResponse({"user": {"username": "admin", "firstName": "Sandbox",
                                      "lastName": "Admin", "email": "admin@sandbox.example",
                                      "lang": "english", "localZoneid": "America/Chicago",
                                      "cdate": account_time(now()), "id": "1"}})

    return [
        Route(f"{p}/lists", g(lists), methods=["GET"]),
        Route(f"{p}/lists", g(create_list), methods=["POST"]),
        Route(f"{p}/lists/{{id}}", g(get_list), methods=["GET"]),
        Route(f"{p}/tags", g(tags), methods=["GET"]),
        Route(f"{p}/tags", g(create_tag), methods=["POST"]),
        Route(f"{p}/tags/{{id}}", g(get_tag), methods=["GET"]),
        Route(f"{p}/contactTags", g(add_contact_tag), methods=["POST"]),
        Route(f"{p}/contactTags/{{id}}", g(remove_contact_tag), methods=["DELETE"]),
        Route(f"{p}/fields", g(fields), methods=["GET"]),
        Route(f"{p}/fields", g(create_field), methods=["POST"]),
        Route(f"{p}/fieldValues", g(field_values), methods=["GET"]),
        Route(f"{p}/fieldValues", g(set_field_value), methods=["POST"]),
        Route(f"{p}/webhooks", g(webhooks), methods=["GET"]),
        Route(f"{p}/webhooks", g(add_webhook), methods=["POST"]),
        Route(f"{p}/webhooks/{{id}}", g(get_webhook), methods=["GET"]),
        Route(f"{p}/webhooks/{{id}}", g(delete_webhook), methods=["DELETE"]),
        Route(f"{p}/import/bulk_import", g(bulk_import), methods=["POST"]),
        Route(f"{p}/import/bulk_import", g(import_list), methods=["GET"]),
        Route(f"{p}/import/info", g(import_info), methods=["GET"]),
        Route(f"{p}/users/me", g(me), methods=["GET"]),
    ]


def _id(request: Request) -> int:
    try:
        return int(request.path_params["id"])
    except ValueError:
        return 0
