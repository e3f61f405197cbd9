"""Bulk API 2.0 ingest jobs: one CSV upload, closed, processed record by record as REST writes.

A record fails alone (``failedResults``); a job whose header names an unknown field fails whole
(``Failed``, every record in ``unprocessedrecords``), as Salesforce does with ``InvalidBatch``.
"""

from __future__ import annotations

import asyncio
import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .bulk_csv import in_value, read_csv, write_csv
from .bulk_jobs import (
    ABORTED,
    FAILED,
    IN_PROGRESS,
    INGEST,
    JOB_COMPLETE,
    OPEN,
    TERMINAL,
    UPLOAD_COMPLETE,
    Job,
    invalid_job,
    invalid_state,
)
from .bulk_query import job_settings
from .changes import Changes
from .errors import DEFAULT_CODES, DEFAULT_MESSAGES, SalesforceError
from .schema import WRITABLE_OBJECTS, FieldDef, now_stamp, to_18
from .store import quote
from .upsert import MultipleMatches, Upserter

if TYPE_CHECKING:
    from .org import Org

OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
BATCH_RECORDS = 10_000  # Salesforce counts one batch of the daily allocation per 10,000 records
BATCHES = "bulk_batches"
CLOSE_ENDPOINT = "/services/data/{version}/jobs/ingest/{job_id}"

SYNC_RECORDS = 2_000  # jobs up to this size are processed within the close call
SLICE = 1_000  # records a background job applies between two turns of the event loop

# one record: (Id, created); raises SalesforceError
RecordWork = Callable[[dict, str], tuple[str, bool]]


@dataclass
class Plan:
    """An ingest job's records and how far processing has come."""

    header: list[str]
    fields: list[FieldDef]
    records: list[list[str]]
    work: RecordWork
    now: str
    done: int = 0
    successful: list[list[str]] = field(default_factory=list)
    failed: list[list[str]] = field(default_factory=list)


def sf_error(error: SalesforceError) -> str:
    """``sf__Error`` as Salesforce writes it: code, message and fields."""
    return f"{error.code}:{error.message}:{','.join(error.fields or [])} --"


class IngestJobs:
    def __init__(self, org: Org):
        self.org = org
        self.jobs = org.bulk
        self.upserter = Upserter(org)
        self._tasks: set[asyncio.Task] = set()  # background jobs, referenced until done

    # --- job lifecycle ------------------------------------------------------------------------

    def create(self, body: object, version: str) -> Job:
        if not isinstance(body, dict):
            raise SalesforceError("JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise invalid_job(f"Invalid operation: {operation}. Valid values are "
                              f"{', '.join(OPERATIONS)}")
        name = body.get("object")
        obj = self.org.store.object_named(str(name)) if name else None
        if obj is None or obj.name not in WRITABLE_OBJECTS:
            raise invalid_job(f"sObject type '{name}' is not supported.")
        delimiter, line_ending = job_settings(body)
        info: dict = {"operation": operation, "object": obj.name, "state": OPEN}
        key = body.get("externalIdFieldName")
        if operation == "upsert":
            if not key:
                raise invalid_job("External ID field name is required for upsert")
            try:
                info["externalIdFieldName"] = self.upserter.key_field(obj.name, str(key)).name
            except SalesforceError:
                raise invalid_job(f"Field {key} is not an external id or idLookup field of "
                                  f"{obj.name}") from None
        limit = self.org.bulk_limits["DailyBulkApiBatches"]
        if self.jobs.used(BATCHES) >= limit:
            raise SalesforceError("EXCEEDED_QUOTA", "You have exceeded the maximum number of "
                                  f"batches in a 24-hour period ({limit})", 403)
        job = self.jobs.new(INGEST, version, {
            **info, "concurrencyMode": "Parallel", "contentType": "CSV",
            "apiVersion": float(version[1:]), "lineEnding": line_ending,
            "columnDelimiter": delimiter})
        job.info["contentUrl"] = f"services/data/{version}/jobs/ingest/{job.id}/batches"
        self.jobs.save(job)
        return job

    def upload(self, job: Job, data: bytes) -> None:
        if job.state != OPEN:
            raise invalid_state(f"Job {job.id} is in state {job.state}; data can only be "
                                "uploaded to an Open job")
        if job.payload is not None:
            raise invalid_state(
                f"Found multiple contents for job: <{job.id}>, please 'Close' / 'Abort' / "
                "'Delete' the current Job then create a new Job and make sure you only do "
                "'PUT' once on a given Job.")
        job.payload = data
        self.jobs.save(job)

    def change_state(self, job: Job, body: object) -> Job:
        state = body.get("state") if isinstance(body, dict) else None
        if state == ABORTED:
            if job.state in TERMINAL:
                raise invalid_state(f"Job {job.id} is already {job.state} and cannot be aborted")
            job.outcome, job.pending = None, 0
            job.set_state(ABORTED)
        elif state == UPLOAD_COMPLETE:
            if job.state != OPEN:
                raise invalid_state(f"Job {job.id} is in state {job.state}; only an Open job "
                                    "can be closed")
            job.set_state(UPLOAD_COMPLETE)
            plan = self._prepare(job)
            if isinstance(plan, dict):
                self.jobs.finish(job, plan)
            elif len(plan.records) <= SYNC_RECORDS:
                self._apply(job, plan, 0, len(plan.records))
                self.jobs.finish(job, self._complete(job, plan))
            else:
                # large jobs run in slices so the sandbox keeps answering while they do
                self.jobs.save(job)
                task = asyncio.get_running_loop().create_task(self._in_background(job.id, plan))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        else:
            raise invalid_job(f"Invalid state: {state}. An ingest job can be set to "
                              "UploadComplete or Aborted")
        self.jobs.save(job)
        return job

    # --- processing -----------------------------------------------------------------------------

    def _prepare(self, job: Job) -> Plan | dict:
        """What there is to do, or (a dict) the outcome of a job that fails whole."""
        try:
            rows = read_csv(job.payload or b"", job.info["columnDelimiter"])
        except (UnicodeDecodeError, csv.Error) as error:
            return self._failed(job, [], [], f"ClientInputError : unreadable CSV: {error}")
        header, records = (rows[0], rows[1:]) if rows else ([], [])
        forced = self.org.bulk_job_failures.pop(0) if self.org.bulk_job_failures else None
        problem = forced or self._header_problem(job, header)
        if problem:
            return self._failed(job, header, records, problem)
        self.jobs.add_use(BATCHES, max(1, math.ceil(len(records) / BATCH_RECORDS)))
        return Plan(header, self._fields(job.info["object"], header), records,
                    self._work(job), now_stamp())

    def _apply(self, job: Job, plan: Plan, start: int, end: int) -> None:
        with self.org.store.transaction():
            for raw in plan.records[start:end]:
                kind, row = self._one(job, plan, raw)
                (plan.successful if kind == "ok" else plan.failed).append(row)
        plan.done = end

    async def _in_background(self, job_id: str, plan: Plan) -> None:
        while plan.done < len(plan.records):
            try:
                job = self.jobs.get(INGEST, job_id)
            except SalesforceError:
                return  # deleted meanwhile
            if job.state == ABORTED:
                break
            if job.state != IN_PROGRESS:
                job.set_state(IN_PROGRESS)
                self.jobs.save(job)
            self._apply(job, plan, plan.done, min(plan.done + SLICE, len(plan.records)))
            await asyncio.sleep(0)
        try:
            job = self.jobs.get(INGEST, job_id)
        except SalesforceError:
            return
        outcome = self._complete(job, plan)
        if job.state == ABORTED:  # what was done stays done; the rest is unprocessed
            job.info.update({k: v for k, v in outcome.items() if k != "state"})
        else:
            self.jobs.finish(job, outcome)
        self.jobs.save(job)

    def _complete(self, job: Job, plan: Plan) -> dict:
        """Write the result files; what the job's info shows when it completes."""
        delimiter, line_ending = job.info["columnDelimiter"], job.info["lineEnding"]
        job.successful = write_csv(["sf__Id", "sf__Created", *plan.header], plan.successful,
                                   delimiter, line_ending).encode()
        job.failed = write_csv(["sf__Id", "sf__Error", *plan.header], plan.failed, delimiter,
                               line_ending).encode()
        job.unprocessed = write_csv(plan.header, plan.records[plan.done:], delimiter,
                                    line_ending).encode()
        return {"state": JOB_COMPLETE, "numberRecordsProcessed": plan.done,
                "numberRecordsFailed": len(plan.failed)}

    def _failed(self, job: Job, header: list[str], records: list[list[str]],
                message: str) -> dict:
        delimiter, line_ending = job.info["columnDelimiter"], job.info["lineEnding"]
        job.successful = write_csv(["sf__Id", "sf__Created", *header], [], delimiter,
                                   line_ending).encode()
        job.failed = write_csv(["sf__Id", "sf__Error", *header], [], delimiter,
                               line_ending).encode()
        job.unprocessed = write_csv(header, records, delimiter, line_ending).encode()
        return {"state": FAILED, "errorMessage": message, "numberRecordsProcessed": 0,
                "numberRecordsFailed": 0}

    def _header_problem(self, job: Job, header: list[str]) -> str | None:
        if not header:
            return "InvalidBatch : The job has no data: upload a CSV with a header row"
        visible = self.org.store.visible_fields(job.info["object"])
        for name in header:
            if name.lower() not in visible:
                return f"InvalidBatch : Field name not found : {name}"
        lowered = [n.lower() for n in header]
        if len(set(lowered)) != len(lowered):
            return "InvalidBatch : Duplicate field names in the header row"
        operation = job.info["operation"]
        if operation in ("delete", "hardDelete") and lowered != ["id"]:
            return "InvalidBatch : The 'delete' batch must contain only the 'Id' field"
        if operation == "update" and "id" not in lowered:
            return "InvalidBatch : Field name not found : Id"
        key = job.info.get("externalIdFieldName", "")
        if operation == "upsert" and key.lower() not in lowered:
            return f"InvalidBatch : Field name not found : {key}"
        return None

    def _fields(self, obj: str, header: list[str]) -> list[FieldDef]:
        visible = self.org.store.visible_fields(obj)
        return [visible[name.lower()] for name in header]

    def _one(self, job: Job, plan: Plan, raw: list[str]) -> tuple[str, list[str]]:
        header, fields = plan.header, plan.fields
        given_id = next((raw[i] for i, f in enumerate(fields) if f.name == "Id" and i < len(raw)),
                        "")
        try:
            if len(raw) != len(header):
                raise SalesforceError("INVALID_FIELD", f"The row has {len(raw)} values and the "
                                      f"header {len(header)} columns")
            error = self._injected(job, dict(zip(header, raw, strict=True)))
            if error is not None:
                raise error
            values = {f.name: in_value(f, text) for f, text in zip(fields, raw, strict=True)
                      if text != ""}
            with self.org.store.savepoint():
                record_id, created = plan.work(values, plan.now)
        except SalesforceError as error:
            return "failed", [to_18(given_id) or given_id, sf_error(error), *raw]
        return "ok", [record_id, "true" if created else "false", *raw]

    def _injected(self, job: Job, row: dict) -> SalesforceError | None:
        fault = self.org.instruments.take_fault(CLOSE_ENDPOINT, "PATCH", per_record=True)
        if fault is not None:
            code = fault.error_code or DEFAULT_CODES.get(fault.status, "UNKNOWN_EXCEPTION")
            return SalesforceError(code, fault.message or DEFAULT_MESSAGES.get(code, code))
        return self.org.record_failures.check(row, job.info["object"])

    def _work(self, job: Job) -> RecordWork:
        obj, operation = job.info["object"], job.info["operation"]
        records = self.org.records

        def record_id(values: dict, operation_name: str) -> str:
            found = values.pop("Id", None)
            if not found:
                raise SalesforceError("MISSING_ARGUMENT", f"Id not specified in an "
                                      f"{operation_name} call", fields=["Id"])
            return str(found)

        def insert(values: dict, now: str) -> tuple[str, bool]:
            return records.create(obj, values, now), True

        def update(values: dict, now: str) -> tuple[str, bool]:
            target = record_id(values, "update")
            records.update(obj, target, values, now)
            return to_18(target) or target, False

        def upsert(values: dict, now: str) -> tuple[str, bool]:
            field = self.upserter.key_field(obj, job.info["externalIdFieldName"])
            try:
                return self.upserter.upsert(obj, field, values.get(field.name), values, now)
            except MultipleMatches as many:
                raise many.per_record() from None

        def delete(values: dict, now: str) -> tuple[str, bool]:
            target = record_id(values, "delete")
            records.delete(obj, target, now)
            return to_18(target) or target, False

        def hard_delete(values: dict, now: str) -> tuple[str, bool]:
            target = record_id(values, "delete")
            row = records.row(obj, target)
            records.delete(obj, target, now)
            assert row is not None
            gone = [(obj, row["Id"])]
            if obj == "Account" and row.get("PersonContactId"):
                gone.append(("Contact", row["PersonContactId"]))
            if obj == "Contact" and row.get("IsPersonAccount") and row.get("AccountId"):
                gone.append(("Account", row["AccountId"]))
            for table, gone_id in gone:  # not to the recycle bin: gone for good
                self.org.store.db.execute(f"DELETE FROM {quote(table)} WHERE Id = ?", (gone_id,))
            Changes(self.org.store).note_purge()  # /deleted can no longer tell before now
            return row["Id"], False

        return {"insert": insert, "update": update, "upsert": upsert, "delete": delete,
                "hardDelete": hard_delete}[operation]
