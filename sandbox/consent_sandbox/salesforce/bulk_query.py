"""Bulk API 2.0 query jobs: the REST query's SOQL, fields and FLS, results as CSV pages."""

from __future__ import annotations

import base64
import binascii
from array import array
from typing import TYPE_CHECKING

from .bulk_csv import DELIMITERS, LINE_ENDINGS, out_text, write_csv
from .bulk_jobs import JOB_COMPLETE, QUERY, UPLOAD_COMPLETE, Job, invalid_job
from .errors import SalesforceError
from .soql import CompiledQuery, compile_query

if TYPE_CHECKING:
    from .org import Org

DEFAULT_PAGE = 50_000  # without maxRecords; real pages are bounded by size (about 1 GB)
ID_CHUNK = 2_000  # rows read per SQL statement (SQLite bounds the parameters of one)
QUERY_JOBS, QUERY_BYTES = "bulk_query_jobs", "bulk_query_bytes"


def job_settings(body: dict) -> tuple[str, str]:
    delimiter = body.get("columnDelimiter", "COMMA")
    line_ending = body.get("lineEnding", "LF")
    if delimiter not in DELIMITERS:
        raise invalid_job(f"Invalid column delimiter: {delimiter}. Valid values are "
                          f"{', '.join(DELIMITERS)}")
    if line_ending not in LINE_ENDINGS:
        raise invalid_job(f"Invalid line ending: {line_ending}. Valid values are LF, CRLF")
    if body.get("contentType", "CSV") != "CSV":
        raise invalid_job(f"Invalid content type: {body.get('contentType')}. The only valid "
                          "value is CSV")
    return delimiter, line_ending


def encode_locator(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str, total: int) -> int:
    try:
        text = base64.urlsafe_b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    if not text.isdigit() or int(text) > total:
        raise SalesforceError("INVALID_LOCATOR", f"Invalid locator: {locator}")
    return int(text)


class QueryJobs:
    def __init__(self, org: Org):
        self.org = org
        self.jobs = org.bulk

    def create(self, body: object, version: str) -> Job:
        if not isinstance(body, dict):
            raise SalesforceError("JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise invalid_job(f"Invalid operation: {operation}. Valid values are query, "
                              "queryAll")
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise invalid_job("A query must be specified")
        delimiter, line_ending = job_settings(body)
        query = compile_query(self.org.store, soql)
        if query.count_only:
            raise invalid_job("Aggregate queries are not supported by Bulk API 2.0 query jobs")
        if query.offset is not None:
            raise invalid_job("OFFSET is not supported by Bulk API 2.0 query jobs")
        limit = self.org.bulk_limits["DailyBulkV2QueryJobs"]
        if self.jobs.used(QUERY_JOBS) >= limit:
            raise SalesforceError("EXCEEDED_QUOTA", "You have exceeded the maximum number of "
                                  f"Bulk API 2.0 query jobs in a 24-hour period ({limit})", 403)
        rowids = self.org.queries.matching(query, include_deleted=operation == "queryAll")
        assert isinstance(rowids, array)
        job = self.jobs.new(QUERY, version, {
            "operation": operation, "object": query.obj.name, "state": UPLOAD_COMPLETE,
            "concurrencyMode": "Parallel", "contentType": "CSV",
            "apiVersion": float(version[1:]), "lineEnding": line_ending,
            "columnDelimiter": delimiter})
        job.soql, job.payload = soql, rowids.tobytes()
        self.jobs.add_use(QUERY_JOBS, 1)
        self.jobs.finish(job, {"state": JOB_COMPLETE, "numberRecordsProcessed": len(rowids)})
        self.jobs.save(job)
        return job

    def page(self, job: Job, locator: str | None, max_records: str | None,
             base: str) -> tuple[str, str, int]:
        """(CSV, next locator or "null", rows in this page)."""
        rowids = array("q")
        rowids.frombytes(job.payload or b"")
        start = decode_locator(locator, len(rowids)) if locator else 0
        size = DEFAULT_PAGE
        if max_records is not None:
            if not max_records.isdigit() or int(max_records) < 1:
                raise SalesforceError("INVALIDREQUEST", f"Invalid maxRecords: {max_records}. "
                                      "It must be a positive integer")
            size = int(max_records)
        chunk = rowids[start:start + size]
        query = compile_query(self.org.store, job.soql or "")
        rows = self.rows(query, chunk, base)
        csv_text = write_csv(self.header(query), rows, job.info["columnDelimiter"],
                             job.info["lineEnding"])
        self.jobs.add_use(QUERY_BYTES, len(csv_text.encode()))
        end = start + len(chunk)
        return csv_text, encode_locator(end) if end < len(rowids) else "null", len(rows)

    @staticmethod
    def header(query: CompiledQuery) -> list[str]:
        return [".".join(c.path) for c in query.columns]

    def rows(self, query: CompiledQuery, rowids: array, base: str) -> list[list[str]]:
        """Rows as Bulk flattens them: a related field is a dotted column, empty without one."""
        out = []
        for at in range(0, len(rowids), ID_CHUNK):
            records = self.org.queries.records(query, rowids[at:at + ID_CHUNK], base)
            for record in records:
                row = []
                for column in query.columns:
                    if len(column.path) == 1:
                        value = record.get(column.path[0])
                    else:
                        value = (record.get(column.path[0]) or {}).get(column.path[1])
                    row.append(out_text(column.field, value))
                out.append(row)
        return out
