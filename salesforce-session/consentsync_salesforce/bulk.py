"""Bulk API 2.0 query and ingest jobs, call by call through the session.

simple-salesforce's `bulk2` runs a whole job in one method (create, upload, close, poll,
results) with no retry or renewal between its calls; its job client makes each call alone, so
each goes through `SalesforceSession.call` here and gets the same retries, renewal and usage
guard as every REST call. Results are CSV, read with the csv module.

A query's results are read a page at a time (`maxRecords` rows, the next page at the
`Sforce-Locator` the last one returned) and each page's rows are parsed as they are consumed,
from the response's bytes: memory holds one page's CSV, never the rows of a page or of the job.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simple_salesforce import Salesforce
from simple_salesforce.bulk2 import JobState, Operation, _Bulk2Client
from simple_salesforce.util import call_salesforce

from .errors import CallRefused, SalesforceUnavailable
from .session import SalesforceSession

BULK_NULL = "#N/A"  # in an upload: set the field to null (an empty value leaves it alone)
RESULTS_PAGE = 50_000  # rows a query results call asks for (maxRecords)
FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 10.0
MAX_WAIT_SECONDS = 6 * 3600
DONE = (JobState.job_complete, JobState.failed, JobState.aborted)


def from_csv(value: str, describe_type: str) -> Any:
    """A Bulk result value (always text; empty is null) as the REST API would type it."""
    if value == "":
        return None
    if describe_type == "boolean":
        return value.lower() == "true"
    if describe_type == "int":
        return int(value)
    if describe_type in ("double", "currency", "percent"):
        return float(value)
    return value


def to_csv_value(value: object) -> str:
    # REST stores an empty text as null; in an upload an empty value would leave the field alone
    if value is None or value == "":
        return BULK_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def write_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """Upload CSV: one column per field any record sets (LF line endings, as the job says)."""
    header = list(dict.fromkeys(name for record in records for name in record))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow([to_csv_value(record[n]) if n in record else "" for n in header])
    return out.getvalue()


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def iter_csv(data: bytes) -> Iterator[dict[str, str]]:
    """Rows of a CSV page one at a time. Decoded in small chunks: a whole page as text (or in a
    StringIO, four bytes a character) would hold several times its size; NULs are dropped as
    simple-salesforce drops them."""
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
    yield from csv.DictReader(line.replace("\0", "") for line in lines)


def query_results_page(client: _Bulk2Client, job_id: str, locator: str, max_records: int
                       ) -> tuple[bytes, str]:
    """(CSV bytes, next locator or "") of one results call: simple-salesforce's
    `get_query_results` (same request, same errors), without decoding the page into one str."""
    params: dict[str, Any] = {"maxRecords": max_records}
    if locator:
        params["locator"] = locator
    response = call_salesforce(
        url=client._construct_request_url(job_id, True) + "/results", method="GET",
        session=client.session, params=params,
        headers=client._get_headers(client.JSON_CONTENT_TYPE, client.CSV_CONTENT_TYPE))
    following = response.headers.get("Sforce-Locator", "")
    return response.content, "" if following == "null" else following


def parse_sf_error(text: str) -> dict[str, Any]:
    """`sf__Error` (`CODE:message:field,field --`) as a REST per-record error."""
    text = text.removesuffix(" --").removesuffix("--")
    code, _, rest = text.partition(":")
    message, _, fields = rest.rpartition(":") if rest.count(":") else (rest, "", "")
    return {"statusCode": code.strip() or "UNKNOWN_ERROR", "message": message.strip(),
            "fields": [f for f in fields.split(",") if f.strip()]}


@dataclass
class IngestResult:
    job_id: str
    successful: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    unprocessed: list[dict[str, str]] = field(default_factory=list)


class Bulk2:
    """Bulk API 2.0 over one session; every call retried, renewed and guarded alike."""

    def __init__(self, session: SalesforceSession) -> None:
        self.session = session
        self.jobs = 0

    @staticmethod
    def _client(sf: Salesforce, sobject: str) -> _Bulk2Client:
        # built for each try: after a renewal it carries the new session id
        return getattr(sf.bulk2, sobject)._client

    def _call(self, what: str, sobject: str, action: Any) -> Any:
        return self.session.call(what, lambda sf: action(self._client(sf, sobject)))

    def _wait(self, job_id: str, sobject: str, is_query: bool) -> dict[str, Any]:
        kind = "query" if is_query else "ingest"
        delay, waited = FIRST_POLL_SECONDS, 0.0
        while True:
            info = self._call(f"Bulk {kind} job {job_id} state", sobject,
                              lambda c: c.get_job(job_id, is_query))
            if info["state"] in DONE:
                if info["state"] != JobState.job_complete:
                    raise CallRefused(f"Salesforce Bulk {kind} job {job_id} on {sobject} ended "
                                      f"{info['state']}: {info.get('errorMessage') or 'no reason'}")
                return info
            if waited >= MAX_WAIT_SECONDS:
                raise SalesforceUnavailable(f"Salesforce Bulk {kind} job {job_id} on {sobject} "
                                            f"is still {info['state']} after {waited:.0f}s; "
                                            "run again later.")
            self.session.sleep(delay)
            waited += delay
            delay = min(MAX_POLL_SECONDS, delay * 2)

    def query(self, sobject: str, soql: str, *, include_deleted: bool = False
              ) -> Iterator[Iterator[dict[str, str]]]:
        """Pages of result rows (text values; `from_csv` types them), paged by Sforce-Locator.

        Each page is an iterator parsed as it is read; the next page is asked for only once
        the one before is consumed. Bulk 2.0 refuses ORDER BY: rows come in no order."""
        operation = Operation.query_all if include_deleted else Operation.query
        job = self._call("Bulk query job", sobject,
                         lambda c: c.create_job(operation, query=soql))
        self.jobs += 1
        self._wait(job["id"], sobject, is_query=True)
        locator = ""
        while True:
            data, locator = self._call(
                f"Bulk query results of job {job['id']}", sobject,
                lambda c, at=locator: query_results_page(c, job["id"], at, RESULTS_PAGE))
            yield iter_csv(data)
            del data  # let go of this page before the next one is fetched
            if not locator:
                return

    def ingest(self, sobject: str, records: Sequence[Mapping[str, Any]], *,
               external_id_field: str | None = None, insert: bool = False) -> IngestResult:
        """One ingest job: update by Id, upsert by `external_id_field`, or `insert`."""
        operation = (Operation.insert if insert else
                     Operation.upsert if external_id_field else Operation.update)
        data = write_csv(records)
        job = self._call(f"Bulk {operation.value} job", sobject, lambda c: c.create_job(
            operation, external_id_field=external_id_field))
        job_id = job["id"]
        self.jobs += 1
        self._call(f"Bulk upload to job {job_id}", sobject,
                   lambda c: c.upload_job_data(job_id, data))
        self._call(f"Bulk close of job {job_id}", sobject, lambda c: c.close_job(job_id))
        self._wait(job_id, sobject, is_query=False)
        result = IngestResult(job_id)
        for kind, rows in (("successfulResults", result.successful),
                           ("failedResults", result.failed),
                           ("unprocessedrecords", result.unprocessed)):
            text = self._call(f"Bulk {kind} of job {job_id}", sobject,
                              lambda c, k=kind: c.get_ingest_results(job_id, k))
            rows.extend(read_csv(text))
        return result
