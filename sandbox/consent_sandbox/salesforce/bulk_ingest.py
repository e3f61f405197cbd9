"""Bulk API 2.0 ingest jobs: one CSV upload, closed, processed record by record as REST writes.

A record fails alone (``failedResults``); a job whose header names an unknown field fails whole
(``Failed``, every record in ``unprocessedrecords``), as Salesforce does with ``InvalidBatch``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from .bulk_csv import in_value, read_csv, write_csv
from .bulk_jobs import (
    ABORTED,
    FAILED,
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

# one record: (Id, created); raises SalesforceError
RecordWork = Callable[[dict, str], tuple[str, bool]]


def sf_error(error: SalesforceError) -> str:
    """``sf__Error`` as Salesforce writes it: code, message and fields."""
    return f"{error.code}:{error.message}:{','.join(error.fields or [])} --"


class IngestJobs:
    def __init__(self, org: Org):
        self.org = org
        self.jobs = org.bulk
        self.upserter = Upserter(org)

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
            self.jobs.finish(job, self._process(job))
        else:
            raise invalid_job(f"Invalid state: {state}. An ingest job can be set to "
                              "UploadComplete or Aborted")
        self.jobs.save(job)
        return job

    # --- processing -----------------------------------------------------------------------------

    def _process(self, job: Job) -> dict:
        """Apply every record now; returns what the job's info shows when it completes."""
        delimiter, line_ending = job.info["columnDelimiter"], job.info["lineEnding"]
        try:
            rows = read_csv(job.payload or b"", delimiter)
        except (UnicodeDecodeError, csv.Error) as error:
            return self._failed(job, [], [], f"ClientInputError : unreadable CSV: {error}")
        header, records = (rows[0], rows[1:]) if rows else ([], [])
        forced = self.org.bulk_job_failures.pop(0) if self.org.bulk_job_failures else None
        problem = forced or self._header_problem(job, header)
        if problem:
            return self._failed(job, header, records, problem)
        fields = self._fields(job.info["object"], header)
        work = self._work(job)
        successful, failed = [], []
        now = now_stamp()
        self.jobs.add_use(BATCHES, max(1, math.ceil(len(records) / BATCH_RECORDS)))
        for at in range(0, len(records), BATCH_RECORDS):
            with self.org.store.transaction():
                for raw in records[at:at + BATCH_RECORDS]:
                    outcome = self._one(job, header, fields, raw, work, now)
                    (successful if outcome[0] == "ok" else failed).append(outcome[1])
        job.successful = write_csv(["sf__Id", "sf__Created", *header], successful, delimiter,
                                   line_ending).encode()
        job.failed = write_csv(["sf__Id", "sf__Error", *header], failed, delimiter,
                               line_ending).encode()
        job.unprocessed = write_csv(header, [], delimiter, line_ending).encode()
        return {"state": JOB_COMPLETE, "numberRecordsProcessed": len(records),
                "numberRecordsFailed": len(failed)}

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

    def _one(self, job: Job, header: list[str], fields: list[FieldDef], raw: list[str],
             work: RecordWork, now: str) -> tuple[str, list[str]]:
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
                record_id, created = work(values, now)
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
