"""The REST API under ``/services/data/vNN.N/``: query, sObjects, collections, limits."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from .bulk_ingest import BATCHES
from .bulk_query import QUERY_BYTES, QUERY_JOBS
from .bulk_routes import bulk_routes
from .changes import Changes
from .collections import CollectionWriter
from .composite import CompositeRunner
from .describe import describe_object, sobject_summary
from .errors import SalesforceError, render_error
from .org import Org
from .query_exec import batch_size
from .records import not_found, out_value
from .schema import WRITABLE_OBJECTS, ObjectDef, now_stamp
from .upsert import MultipleMatches, Upserter

VERSION_RE = re.compile(r"v(\d{2})\.0")
MIN_VERSION, MAX_VERSION = 20, 64
Handler = Callable[[Request], Awaitable[Response]]
BULK_V1_NOT_ENABLED = (
    '<?xml version="1.0" encoding="UTF-8"?><error '
    'xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>FeatureNotEnabled'
    '</exceptionCode><exceptionMessage>Bulk API is not enabled for this Organization; use '
    'Bulk API 2.0 (/services/data/vXX.X/jobs)</exceptionMessage></error>')


class Path(Route):
    """A route that also answers with a trailing slash, as simple-salesforce often sends one."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/")}
        return super().matches(scope)


def versions() -> list[dict]:
    seasons = ["Winter", "Spring", "Summer"]
    out = []
    for v in range(31, MAX_VERSION + 1):
        year = 25 + (v - 62) // 3
        out.append({"label": f"{seasons[(v - 62) % 3]} '{year:02d}",
                    "url": f"/services/data/v{v}.0", "version": f"{v}.0"})
    return out


async def json_body(request: Request) -> object:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise SalesforceError("JSON_PARSER_ERROR",
                              "Unexpected character in the JSON body") from None


def api_routes(org: Org) -> list[Route]:
    def guarded(handler: Handler) -> Handler:
        """Session, daily allowance and the limit header, as every data call has them."""

        async def endpoint(request: Request) -> Response:
            match = VERSION_RE.fullmatch(request.path_params["version"])
            if not match or not MIN_VERSION <= int(match.group(1)) <= MAX_VERSION:
                return render_error(404, "NOT_FOUND", "The requested resource does not exist")
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() not in ("bearer", "oauth") or not org.session_valid(token.strip()):
                response = render_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
                response.headers["WWW-Authenticate"] = "Token"
                return response
            if org.exhausted():
                response = render_error(403, "REQUEST_LIMIT_EXCEEDED",
                                        "TotalRequests Limit exceeded.")
            else:
                org.count_call()
                try:
                    response = await handler(request)
                except SalesforceError as error:
                    response = JSONResponse([error.top_level()], error.status)
            response.headers["Sforce-Limit-Info"] = org.limit_info()
            return response

        return endpoint

    def base(request: Request) -> str:
        return f"/services/data/{request.path_params['version']}"

    def writable(name: str) -> str:
        obj = org.store.object_named(name)
        if obj is None:
            raise not_found()
        if obj.name not in WRITABLE_OBJECTS:
            raise SalesforceError("INVALID_TYPE_FOR_OPERATION",
                                  f"entity type {obj.name} does not support this operation")
        return obj.name

    async def resources(request: Request) -> Response:
        b = base(request)
        names = ["sobjects", "query", "queryAll", "limits", "composite"]
        if org.bulk.enabled and int(request.path_params["version"][1:3]) >= 41:
            names.append("jobs")
        return JSONResponse({name: f"{b}/{name}" for name in names})

    async def limits(request: Request) -> Response:
        """Only allocations of what the stand-in serves, used as it counts them."""
        def pair(maximum: int, used: int) -> dict:
            return {"Max": maximum, "Remaining": max(0, maximum - used)}

        body = {"DailyApiRequests": pair(org.limit, org.used),
                "DataStorageMB": pair(1024, 0)}
        if org.bulk.enabled:
            caps, bulk = org.bulk_limits, org.bulk
            body["DailyBulkApiBatches"] = pair(caps["DailyBulkApiBatches"], bulk.used(BATCHES))
            body["DailyBulkV2QueryFileStorageMB"] = pair(
                caps["DailyBulkV2QueryFileStorageMB"],
                -(-bulk.used(QUERY_BYTES) // (1024 * 1024)))
            body["DailyBulkV2QueryJobs"] = pair(caps["DailyBulkV2QueryJobs"],
                                                bulk.used(QUERY_JOBS))
        return JSONResponse(dict(sorted(body.items())))

    def query_endpoint(include_deleted: bool) -> Handler:
        name = "queryAll" if include_deleted else "query"

        async def run(request: Request) -> Response:
            soql = request.query_params.get("q")
            if not soql:
                raise SalesforceError("MALFORMED_QUERY", "A query string has to be specified")
            size = batch_size(request.headers.get("sforce-query-options"))
            body = org.queries.run(soql, include_deleted, size, f"{base(request)}/{name}")
            return JSONResponse(body)

        async def more(request: Request) -> Response:
            body = org.queries.more(request.path_params["locator"],
                                    request.headers.get("sforce-query-options"),
                                    f"{base(request)}/{name}")
            return JSONResponse(body)

        return run, more

    async def sobjects(request: Request) -> Response:
        return JSONResponse({
            "encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [sobject_summary(o, base(request)) for o in org.store.objects.values()],
        })

    async def sobject_info(request: Request) -> Response:
        obj = org.store.object_named(request.path_params["sobject"])
        if obj is None:
            raise not_found()
        return JSONResponse({"objectDescribe": sobject_summary(obj, base(request)),
                             "recentItems": []})

    async def describe(request: Request) -> Response:
        obj = org.store.object_named(request.path_params["sobject"])
        if obj is None:
            raise not_found()
        return JSONResponse(describe_object(org.store, obj, base(request)))

    async def create(request: Request) -> Response:
        obj = writable(request.path_params["sobject"])
        body = await json_body(request)
        if not isinstance(body, dict):
            raise SalesforceError("JSON_PARSER_ERROR", "The request body must be a JSON object")
        with org.store.transaction():
            record_id = org.records.create(obj, body, now_stamp())
        return JSONResponse({"id": record_id, "success": True, "errors": []}, 201)

    async def get_record(request: Request) -> Response:
        obj = org.store.object_named(request.path_params["sobject"])
        if obj is None:
            raise not_found()
        row = org.records.row(obj.name, request.path_params["record_id"])
        if row is None or row.get("IsDeleted"):
            raise not_found()
        visible = org.store.visible_fields(obj.name)
        wanted = request.query_params.get("fields")
        if wanted:
            names = [n.strip() for n in wanted.split(",") if n.strip()]
            fields = []
            for name in names:
                if name.lower() not in visible:
                    raise SalesforceError("INVALID_FIELD", f"No such column '{name}' on entity "
                                          f"'{obj.name}'.")
                fields.append(visible[name.lower()])
        else:
            fields = list(visible.values())
        record: dict = {"attributes": {"type": obj.name,
                                       "url": f"{base(request)}/sobjects/{obj.name}/{row['Id']}"}}
        record.update({f.name: out_value(f, row[f.name]) for f in fields})
        return JSONResponse(record)

    async def update(request: Request) -> Response:
        obj = writable(request.path_params["sobject"])
        body = await json_body(request)
        if not isinstance(body, dict):
            raise SalesforceError("JSON_PARSER_ERROR", "The request body must be a JSON object")
        with org.store.transaction():
            org.records.update(obj, request.path_params["record_id"], body, now_stamp())
        return Response(status_code=204)

    async def delete(request: Request) -> Response:
        obj = writable(request.path_params["sobject"])
        with org.store.transaction():
            org.records.delete(obj, request.path_params["record_id"], now_stamp())
        return Response(status_code=204)

    upserter = Upserter(org)

    def version_number(request: Request) -> int:
        return int(request.path_params["version"][1:].split(".")[0])

    def several(request: Request, obj: str, ids: list[str]) -> Response:
        """300 Multiple Choices: the URLs of the records that share the key."""
        return JSONResponse([f"{base(request)}/sobjects/{obj}/{i}" for i in ids], 300)

    async def upsert_by_key(request: Request) -> Response:
        obj = writable(request.path_params["sobject"])
        field = upserter.key_field(obj, request.path_params["field"])
        body = await json_body(request)
        if not isinstance(body, dict):
            raise SalesforceError("JSON_PARSER_ERROR", "The request body must be a JSON object")
        try:
            with org.store.transaction():
                record_id, created = upserter.upsert(obj, field, request.path_params["value"],
                                                     body, now_stamp())
        except MultipleMatches as many:
            return several(request, obj, many.ids)
        result = {"id": record_id, "success": True, "errors": [], "created": created}
        if created:
            return JSONResponse(result, 201)
        # since API v46.0 an update by external id answers 200 with a body, before that 204
        return JSONResponse(result) if version_number(request) >= 46 else Response(
            status_code=204)

    async def get_by_key(request: Request) -> Response:
        obj = org.store.object_named(request.path_params["sobject"])
        if obj is None:
            raise not_found()
        field = upserter.key_field(obj.name, request.path_params["field"])
        found = upserter.matches(obj.name, field, request.path_params["value"])
        if len(found) > 1:
            return several(request, obj.name, found)
        if not found:
            raise not_found()
        request.path_params["record_id"] = found[0]
        return await get_record(request)

    writer = CollectionWriter(org)
    collection_path = "/services/data/{version}/composite/sobjects"

    async def collection_create(request: Request) -> Response:
        return JSONResponse(writer.create(await json_body(request), collection_path))

    async def collection_update(request: Request) -> Response:
        return JSONResponse(writer.update(await json_body(request), collection_path))

    async def collection_upsert(request: Request) -> Response:
        return JSONResponse(writer.upsert(request.path_params["sobject"],
                                          request.path_params["field"],
                                          await json_body(request),
                                          collection_path + "/{sobject}/{field}"))

    async def collection_delete(request: Request) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        all_or_none = request.query_params.get("allOrNone", "false").lower() == "true"
        return JSONResponse(writer.delete(ids, all_or_none, collection_path))

    changes = Changes(org.store)

    def replicated(request: Request) -> ObjectDef:
        obj = org.store.object_named(request.path_params["sobject"])
        if obj is None:
            raise not_found()
        return obj

    async def updated(request: Request) -> Response:
        params = request.query_params
        return JSONResponse(changes.updated(replicated(request), params.get("start"),
                                            params.get("end")))

    async def deleted(request: Request) -> Response:
        params = request.query_params
        return JSONResponse(changes.deleted(replicated(request), params.get("start"),
                                            params.get("end")))

    subrequest_routes: list[Route] = []
    composite_runner = CompositeRunner(org, subrequest_routes)

    async def composite(request: Request) -> Response:
        body = await json_body(request)
        return JSONResponse(await composite_runner.run(body,
                                                       request.headers.get("authorization", "")))

    async def composite_resources(request: Request) -> Response:
        # batch, tree and graph are not served, so not listed
        return JSONResponse({"sobjects": f"{base(request)}/composite/sobjects"})

    async def unknown(request: Request) -> Response:
        raise not_found()

    run, more = query_endpoint(False)
    run_all, more_all = query_endpoint(True)
    data = "/services/data/{version}"
    table: list[tuple[str, Handler, list[str]]] = [
        ("", resources, ["GET"]),
        ("/limits", limits, ["GET"]),
        ("/query", run, ["GET"]),
        ("/query/{locator}", more, ["GET"]),
        ("/queryAll", run_all, ["GET"]),
        ("/queryAll/{locator}", more_all, ["GET"]),
        ("/sobjects", sobjects, ["GET"]),
        ("/sobjects/{sobject}", sobject_info, ["GET"]),
        ("/sobjects/{sobject}", create, ["POST"]),
        ("/sobjects/{sobject}/describe", describe, ["GET"]),
        ("/sobjects/{sobject}/updated", updated, ["GET"]),
        ("/sobjects/{sobject}/deleted", deleted, ["GET"]),
        ("/sobjects/{sobject}/{record_id}", get_record, ["GET"]),
        ("/sobjects/{sobject}/{record_id}", update, ["PATCH"]),
        ("/sobjects/{sobject}/{record_id}", delete, ["DELETE"]),
        ("/sobjects/{sobject}/{field}/{value}", get_by_key, ["GET"]),
        ("/sobjects/{sobject}/{field}/{value}", upsert_by_key, ["PATCH"]),
        ("/composite/sobjects", collection_create, ["POST"]),
        ("/composite/sobjects", collection_update, ["PATCH"]),
        ("/composite/sobjects", collection_delete, ["DELETE"]),
        ("/composite/sobjects/{sobject}/{field}", collection_upsert, ["PATCH"]),
        ("/composite", composite, ["POST"]),
        ("/composite", composite_resources, ["GET"]),
    ]
    table += bulk_routes(org)
    table.append(("/{rest:path}", unknown, ["GET", "POST", "PATCH", "PUT", "DELETE"]))

    async def version_list(request: Request) -> Response:
        return JSONResponse(versions())

    subrequest_routes += [Path(data + path, handler, methods=methods)
                          for path, handler, methods in table if not path.startswith("/{")]

    async def bulk_v1(request: Request) -> Response:
        # Bulk API 1.0 is not served: answered as an org without the feature, in its XML
        return Response(BULK_V1_NOT_ENABLED, 400, media_type="application/xml")

    routes = [Path("/services/data", version_list, methods=["GET"]),
              Path("/services/async/{rest:path}", bulk_v1,
                   methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
    routes += [Path(data + path, guarded(handler), methods=methods)
               for path, handler, methods in table]
    return routes
