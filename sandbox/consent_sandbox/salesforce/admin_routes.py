"""The Salesforce admin surface under ``/_sandbox/``: not counted, no auth, for tests only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..instrument import ADMIN_PREFIX
from .bulk_load import insert_rows
from .errors import SalesforceError
from .org import Org
from .records import out_value
from .schema import CUSTOM_FIELD_TYPES, WRITABLE_OBJECTS, now_stamp
from .store import HIDDEN, READ_ONLY, VISIBLE, quote

Handler = Callable[[Request], Awaitable[Response]]


def admin_error(message: str, code: str = "BAD_REQUEST", status: int = 400) -> Response:
    return JSONResponse({"error": message, "errorCode": code}, status)


def admin_routes(org: Org) -> list[Route]:
    def object_name(name: str) -> str:
        obj = org.store.object_named(name)
        if obj is None or obj.name not in WRITABLE_OBJECTS:
            raise SalesforceError("INVALID_TYPE", f"unknown object {name!r}", 404)
        return obj.name

    def handled(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except SalesforceError as error:
                return admin_error(error.message, error.code, error.status)
            except (ValueError, KeyError, TypeError) as error:
                return admin_error(f"bad request: {error}")

        return endpoint

    @handled
    async def reset(request: Request) -> Response:
        org.reset()
        return Response(status_code=204)

    @handled
    async def list_records(request: Request) -> Response:
        obj = object_name(request.path_params["sobject"])
        fields = org.store.objects[obj].fields
        cursor = org.store.db.execute(f"SELECT * FROM {quote(obj)} ORDER BY rowid")
        names = [c[0] for c in cursor.description]
        by_name = {f.name: f for f in fields}
        return JSONResponse([{n: out_value(by_name[n], v) for n, v in zip(names, row, strict=True)}
                             for row in cursor])

    @handled
    async def add_records(request: Request) -> Response:
        obj = object_name(request.path_params["sobject"])
        body = await request.json()
        if not isinstance(body, list):
            return admin_error("send a JSON list of records")
        ids = insert_rows(org.store, obj, body, now_stamp())
        return JSONResponse({"ids": ids}, 201)

    @handled
    async def edit_record(request: Request) -> Response:
        obj = object_name(request.path_params["sobject"])
        body = await request.json()
        system = request.query_params.get("system", "false").lower() == "true"
        with org.store.transaction():
            org.records.update(obj, request.path_params["record_id"], body, now_stamp(),
                               admin=True, system=system)
        return Response(status_code=204)

    @handled
    async def fls(request: Request) -> Response:
        body = await request.json()
        obj = object_name(body["object"])
        field = next((f for f in org.store.objects[obj].fields
                      if f.name.lower() == str(body["field"]).lower()), None)
        if field is None:
            return admin_error(f"{obj} has no field {body['field']!r}")
        if body["access"] not in (HIDDEN, READ_ONLY, VISIBLE):
            return admin_error("access is one of hidden, read_only, visible")
        org.store.set_fls(obj, field.name, body["access"])
        return Response(status_code=204)

    @handled
    async def expire_sessions(request: Request) -> Response:
        org.expire_sessions()
        return Response(status_code=204)

    @handled
    async def convert_lead(request: Request) -> Response:
        body = await request.json()
        with org.store.transaction():
            result = org.records.convert_lead(body["lead_id"], body.get("contact_id"),
                                              now_stamp())
        return JSONResponse(result)

    @handled
    async def get_usage(request: Request) -> Response:
        return JSONResponse({"used": org.used, "max": org.limit})

    @handled
    async def set_usage(request: Request) -> Response:
        body = await request.json()
        org.set_used(int(body["used"]))
        return Response(status_code=204)

    @handled
    async def add_field(request: Request) -> Response:
        body = await request.json()
        obj = object_name(body["object"])
        name, kind = str(body["name"]), str(body.get("type", "string")).lower()
        if not name.endswith("__c") or not name[:-3].replace("_", "").isalnum():
            return admin_error("a custom field name looks like My_Field__c")
        if kind not in CUSTOM_FIELD_TYPES:
            return admin_error(f"type is one of {sorted(CUSTOM_FIELD_TYPES)}")
        if name.lower() in {f.name.lower() for f in org.store.objects[obj].fields}:
            return admin_error(f"{obj} already has a field {name}", status=409)
        org.store.add_custom_field(obj, name, kind, bool(body.get("external_id", False)),
                                   calculated=bool(body.get("formula", False)))
        return Response(status_code=204)

    @handled
    async def add_record_failure(request: Request) -> Response:
        body = await request.json()
        for rule in body if isinstance(body, list) else [body]:
            org.record_failures.add(rule)
        return Response(status_code=204)

    @handled
    async def list_record_failures(request: Request) -> Response:
        return JSONResponse(org.record_failures.describe())

    @handled
    async def clear_record_failures(request: Request) -> Response:
        org.record_failures.clear()
        return Response(status_code=204)

    @handled
    async def bulk_settings(request: Request) -> Response:
        body = await request.json()
        unknown = set(body) - {"enabled", "pending_polls", "fail_jobs"}
        if unknown:
            return admin_error(f"unknown keys {sorted(unknown)}; use enabled, pending_polls, "
                               "fail_jobs")
        if "enabled" in body:
            org.bulk.enabled = bool(body["enabled"])
        if "pending_polls" in body:
            org.bulk.pending_polls = max(0, int(body["pending_polls"]))
        for message in body.get("fail_jobs", []):
            org.bulk_job_failures.append(str(message))
        return await get_bulk(request)

    @handled
    async def get_bulk(request: Request) -> Response:
        return JSONResponse({"enabled": org.bulk.enabled, "pending_polls": org.bulk.pending_polls,
                             "fail_jobs": org.bulk_job_failures})

    p = ADMIN_PREFIX
    return [
        Route(f"{p}/reset", reset, methods=["POST"]),
        Route(f"{p}/records/{{sobject}}", list_records, methods=["GET"]),
        Route(f"{p}/records/{{sobject}}", add_records, methods=["POST"]),
        Route(f"{p}/records/{{sobject}}/{{record_id}}", edit_record, methods=["PATCH"]),
        Route(f"{p}/fls", fls, methods=["POST"]),
        Route(f"{p}/expire-sessions", expire_sessions, methods=["POST"]),
        Route(f"{p}/convert-lead", convert_lead, methods=["POST"]),
        Route(f"{p}/usage", get_usage, methods=["GET"]),
        Route(f"{p}/usage", set_usage, methods=["POST"]),
        Route(f"{p}/fields", add_field, methods=["POST"]),
        Route(f"{p}/bulk", bulk_settings, methods=["POST"]),
        Route(f"{p}/bulk", get_bulk, methods=["GET"]),
        Route(f"{p}/record-failures", add_record_failure, methods=["POST"]),
        Route(f"{p}/record-failures", list_record_failures, methods=["GET"]),
        Route(f"{p}/record-failures", clear_record_failures, methods=["DELETE"]),
    ]
