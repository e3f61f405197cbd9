"""Bulk API 2.0 under ``/services/data/vNN.N/jobs/``: query and ingest jobs."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .bulk_ingest import IngestJobs
from .bulk_jobs import INGEST, JOB_COMPLETE, QUERY, TERMINAL, Job, invalid_job, invalid_state
from .bulk_query import QueryJobs
from .errors import SalesforceError

if TYPE_CHECKING:
    from .org import Org

Handler = Callable[[Request], Awaitable[Response]]
QUERY_SINCE, INGEST_SINCE = 47, 41  # the API versions that introduced each resource
CREATE_KEYS = ("id", "operation", "object", "createdById", "createdDate", "systemModstamp",
               "state", "externalIdFieldName", "concurrencyMode", "contentType", "apiVersion",
               "contentUrl", "lineEnding", "columnDelimiter")
CSV_TYPE = "text/csv"


def query_info(job: Job) -> dict:
    info = job.info
    out = {k: info[k] for k in CREATE_KEYS if k in info and k != "contentUrl"}
    out.update({"jobType": "V2Query", "numberRecordsProcessed": info.get(
        "numberRecordsProcessed", 0), "retries": 0, "totalProcessingTime": 0,
        "isPkChunkingSupported": True})
    if "errorMessage" in info:
        out["errorMessage"] = info["errorMessage"]
    return out


def ingest_info(job: Job) -> dict:
    info = job.info
    out = {k: info[k] for k in CREATE_KEYS if k in info}
    out.update({"jobType": "V2Ingest",
                "numberRecordsProcessed": info.get("numberRecordsProcessed", 0),
                "numberRecordsFailed": info.get("numberRecordsFailed", 0), "retries": 0,
                "totalProcessingTime": 0, "apiActiveProcessingTime": 0,
                "apexProcessingTime": 0})
    if "errorMessage" in info:
        out["errorMessage"] = info["errorMessage"]
    return out


def created_view(job: Job) -> dict:
    return {k: job.info[k] for k in CREATE_KEYS if k in job.info}


def bulk_routes(org: Org) -> list[tuple[str, Handler, list[str]]]:
    queries, ingests = QueryJobs(org), IngestJobs(org)

    def version(request: Request) -> str:
        return request.path_params["version"]

    def available(since: int) -> Callable[[Handler], Handler]:
        """Older API versions have no such resource; an org without Bulk API refuses it."""

        def wrap(handler: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                if int(version(request)[1:].split(".")[0]) < since:
                    raise SalesforceError("NOT_FOUND", "The requested resource does not exist",
                                          404)
                if not org.bulk.enabled:
                    raise SalesforceError("API_DISABLED_FOR_ORG",
                                          "Bulk API 2.0 is not enabled for this organization.",
                                          403)
                return await handler(request)

            return endpoint

        return wrap

    async def body_of(request: Request) -> object:
        try:
            return json.loads(await request.body() or b"null")
        except ValueError:
            raise SalesforceError("JSON_PARSER_ERROR",
                                  "Unexpected character in the JSON body") from None

    def listing(jobs: list[Job], view: Callable[[Job], dict]) -> Response:
        return JSONResponse({"done": True, "records": [view(j) for j in jobs],
                             "nextRecordsUrl": None})

    def delete_job(job: Job) -> Response:
        if job.state not in (*TERMINAL, "UploadComplete"):
            raise invalid_state(f"Job {job.id} is in state {job.state}; only a closed, "
                                "completed, aborted or failed job can be deleted")
        org.bulk.delete(job)
        return Response(status_code=204)

    # --- query jobs ---------------------------------------------------------------------------

    @available(QUERY_SINCE)
    async def create_query(request: Request) -> Response:
        job = queries.create(await body_of(request), version(request))
        return JSONResponse(created_view(job))

    @available(QUERY_SINCE)
    async def list_queries(request: Request) -> Response:
        return listing(org.bulk.all(QUERY), query_info)

    @available(QUERY_SINCE)
    async def get_query(request: Request) -> Response:
        job = org.bulk.observe(org.bulk.get(QUERY, request.path_params["job_id"]))
        return JSONResponse(query_info(job))

    @available(QUERY_SINCE)
    async def abort_query(request: Request) -> Response:
        job = org.bulk.get(QUERY, request.path_params["job_id"])
        body = await body_of(request)
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise invalid_job("A query job can only be set to Aborted")
        if job.state in TERMINAL:
            raise invalid_state(f"Job {job.id} is already {job.state} and cannot be aborted")
        job.outcome, job.pending = None, 0
        job.set_state("Aborted")
        org.bulk.save(job)
        return JSONResponse(created_view(job))

    @available(QUERY_SINCE)
    async def delete_query(request: Request) -> Response:
        return delete_job(org.bulk.get(QUERY, request.path_params["job_id"]))

    @available(QUERY_SINCE)
    async def query_results(request: Request) -> Response:
        job = org.bulk.get(QUERY, request.path_params["job_id"])
        if job.version != version(request):
            raise SalesforceError("INVALIDJOB", f"The job was created with API version "
                                  f"{job.version[1:]}: read its results with the same version",
                                  409)
        if job.state != JOB_COMPLETE:
            raise SalesforceError("JOB_NOT_COMPLETE", f"Job {job.id} is in state {job.state}: "
                                  "results are available once it is JobComplete")
        params = request.query_params
        text, locator, count = queries.page(job, params.get("locator"),
                                            params.get("maxRecords"),
                                            f"/services/data/{version(request)}")
        org.bulk.save(job)
        return Response(text, media_type=CSV_TYPE, headers={
            "Sforce-Locator": locator, "Sforce-NumberOfRecords": str(count)})

    # --- ingest jobs --------------------------------------------------------------------------

    @available(INGEST_SINCE)
    async def create_ingest(request: Request) -> Response:
        job = ingests.create(await body_of(request), version(request))
        return JSONResponse(created_view(job))

    @available(INGEST_SINCE)
    async def list_ingests(request: Request) -> Response:
        return listing(org.bulk.all(INGEST), ingest_info)

    @available(INGEST_SINCE)
    async def get_ingest(request: Request) -> Response:
        job = org.bulk.observe(org.bulk.get(INGEST, request.path_params["job_id"]))
        return JSONResponse(ingest_info(job))

    @available(INGEST_SINCE)
    async def upload(request: Request) -> Response:
        job = org.bulk.get(INGEST, request.path_params["job_id"])
        ingests.upload(job, await request.body())
        return Response(status_code=201)

    @available(INGEST_SINCE)
    async def close_or_abort(request: Request) -> Response:
        job = org.bulk.get(INGEST, request.path_params["job_id"])
        job = ingests.change_state(job, await body_of(request))
        return JSONResponse(created_view(job))

    @available(INGEST_SINCE)
    async def delete_ingest(request: Request) -> Response:
        return delete_job(org.bulk.get(INGEST, request.path_params["job_id"]))

    def ingest_results(kind: str) -> Handler:
        @available(INGEST_SINCE)
        async def results(request: Request) -> Response:
            job = org.bulk.get(INGEST, request.path_params["job_id"])
            if job.state not in TERMINAL:
                raise SalesforceError("JOB_NOT_COMPLETE", f"Job {job.id} is in state "
                                      f"{job.state}: results are available once it is "
                                      "JobComplete, Failed or Aborted")
            data = getattr(job, kind)
            if data is None:  # aborted before it was processed: every row is unprocessed
                data = (job.payload or b"") if kind == "unprocessed" else b""
            return Response(data, media_type=CSV_TYPE)

        return results

    unprocessed = ingest_results("unprocessed")
    return [
        ("/jobs/query", create_query, ["POST"]),
        ("/jobs/query", list_queries, ["GET"]),
        ("/jobs/query/{job_id}", get_query, ["GET"]),
        ("/jobs/query/{job_id}", abort_query, ["PATCH"]),
        ("/jobs/query/{job_id}", delete_query, ["DELETE"]),
        ("/jobs/query/{job_id}/results", query_results, ["GET"]),
        ("/jobs/ingest", create_ingest, ["POST"]),
        ("/jobs/ingest", list_ingests, ["GET"]),
        ("/jobs/ingest/{job_id}", get_ingest, ["GET"]),
        ("/jobs/ingest/{job_id}", close_or_abort, ["PATCH"]),
        ("/jobs/ingest/{job_id}", delete_ingest, ["DELETE"]),
        ("/jobs/ingest/{job_id}/batches", upload, ["PUT"]),
        ("/jobs/ingest/{job_id}/successfulResults", ingest_results("successful"), ["GET"]),
        ("/jobs/ingest/{job_id}/failedResults", ingest_results("failed"), ["GET"]),
        ("/jobs/ingest/{job_id}/unprocessedrecords", unprocessed, ["GET"]),
        # simple-salesforce spells it unprocessedRecords
        ("/jobs/ingest/{job_id}/unprocessedRecords", unprocessed, ["GET"]),
    ]
