"""Bulk API 2.0 jobs kept in the store: their info, state as clients observe it, data and results.

Work happens synchronously (a query when its job is created, an ingest when it is closed), but
the job reports ``InProgress`` for the next ``pending_polls`` reads of its info before the outcome
shows, so clients exercise their polling the way a real org makes them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from .errors import SalesforceError
from .schema import INTEGRATION_USER_ID, make_id, now_stamp
from .store import Store

QUERY, INGEST = "query", "ingest"
OPEN, UPLOAD_COMPLETE, IN_PROGRESS = "Open", "UploadComplete", "InProgress"
JOB_COMPLETE, FAILED, ABORTED = "JobComplete", "Failed", "Aborted"
TERMINAL = (JOB_COMPLETE, FAILED, ABORTED)
JOB_LIFETIME = 7 * 24 * 3600  # terminal jobs older than seven days are deleted

SCHEMA = """
CREATE TABLE IF NOT EXISTS _bulk_jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, version TEXT NOT NULL, info TEXT NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0, outcome TEXT, soql TEXT, payload BLOB,
    successful BLOB, failed BLOB, unprocessed BLOB, created REAL NOT NULL);
"""
COLUMNS = ("id", "kind", "version", "info", "pending", "outcome", "soql", "payload",
           "successful", "failed", "unprocessed", "created")


@dataclass
class Job:
    id: str
    kind: str
    version: str
    info: dict
    pending: int = 0
    outcome: dict | None = None  # info fields that show once ``pending`` reads have passed
    soql: str | None = None
    payload: bytes | None = None  # query: the matching rowids; ingest: the uploaded CSV
    successful: bytes | None = None
    failed: bytes | None = None
    unprocessed: bytes | None = None
    created: float = 0.0

    @property
    def state(self) -> str:
        return self.info["state"]

    def set_state(self, state: str) -> None:
        self.info["state"] = state
        self.info["systemModstamp"] = now_stamp()


def job_not_found() -> SalesforceError:
    return SalesforceError("NOT_FOUND", "The requested resource does not exist", 404)


def invalid_state(message: str) -> SalesforceError:
    return SalesforceError("INVALIDJOBSTATE", message, 409)


def invalid_job(message: str) -> SalesforceError:
    return SalesforceError("INVALIDJOB", message, 400)


class BulkJobs:
    def __init__(self, store: Store, pending_polls: int):
        self.store = store
        self.pending_polls = pending_polls
        self.enabled = True
        store.db.executescript(SCHEMA)
        store.db.execute("DELETE FROM _bulk_jobs WHERE created < ?",
                         (time.time() - JOB_LIFETIME,))
        self._fail_interrupted()

    def _fail_interrupted(self) -> None:
        """Ingest jobs a stop cut short in the background end Failed, their data unprocessed."""
        for job in self.all(INGEST):
            if job.state in (UPLOAD_COMPLETE, IN_PROGRESS) and job.outcome is None:
                job.info.update(errorMessage="InternalServerError : the job was interrupted; "
                                "upload the unprocessed records in a new job")
                job.unprocessed = job.unprocessed or job.payload
                job.set_state(FAILED)
                self.save(job)

    def new(self, kind: str, version: str, info: dict) -> Job:
        job_id = make_id("750", self.store.next_numbers(1)[0])
        now = now_stamp()
        head = {"id": job_id, **info, "createdById": INTEGRATION_USER_ID, "createdDate": now,
                "systemModstamp": now}
        job = Job(job_id, kind, version, head, created=time.time())
        self.save(job)
        return job

    def get(self, kind: str, job_id: str) -> Job:
        row = self.store.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM _bulk_jobs WHERE id = ? AND kind = ?",
            (job_id, kind)).fetchone()
        if row is None:
            raise job_not_found()
        return self._job(row)

    def all(self, kind: str) -> list[Job]:
        rows = self.store.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM _bulk_jobs WHERE kind = ? ORDER BY created",
            (kind,))
        return [self._job(row) for row in rows]

    @staticmethod
    def _job(row: tuple) -> Job:
        values = dict(zip(COLUMNS, row, strict=True))
        values["info"] = json.loads(values["info"])
        values["outcome"] = json.loads(values["outcome"]) if values["outcome"] else None
        return Job(**values)

    def save(self, job: Job) -> None:
        self.store.db.execute(
            f"INSERT OR REPLACE INTO _bulk_jobs ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})",
            (job.id, job.kind, job.version, json.dumps(job.info), job.pending,
             json.dumps(job.outcome) if job.outcome else None, job.soql, job.payload,
             job.successful, job.failed, job.unprocessed, job.created))

    def delete(self, job: Job) -> None:
        self.store.db.execute("DELETE FROM _bulk_jobs WHERE id = ?", (job.id,))

    def forget_all(self) -> None:
        self.store.db.execute("DELETE FROM _bulk_jobs")

    def finish(self, job: Job, outcome: dict) -> None:
        """The work is done; it shows on the first read after ``pending_polls`` reads (the
        answer to the close or create call itself still says UploadComplete)."""
        job.pending = self.pending_polls
        job.outcome = outcome

    def observe(self, job: Job) -> Job:
        """One read of the job's info: the state moves on as a client polling would see it."""
        if job.outcome is not None and job.state not in TERMINAL:
            if job.pending > 0:
                job.pending -= 1
                if job.state != IN_PROGRESS:
                    job.set_state(IN_PROGRESS)
            else:
                self._settle(job)
            self.save(job)
        return job

    @staticmethod
    def _settle(job: Job) -> None:
        assert job.outcome is not None
        job.info.update(job.outcome)
        job.outcome = None
        job.set_state(job.info["state"])

    # --- daily allocations as /limits reports them -------------------------------------------

    def used(self, key: str) -> int:
        return self.store.meta(key)

    def add_use(self, key: str, amount: int) -> None:
        self.store.set_meta(key, self.store.meta(key) + amount)
