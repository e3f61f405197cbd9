"""One sandbox org: its store plus sessions and the daily API allowance, both kept in the store."""

from __future__ import annotations

import secrets
import time

from ..instrument import Instruments
from ..settings import SandboxSettings
from .bulk_jobs import BulkJobs
from .query_exec import QueryRunner
from .record_failures import RecordFailures
from .records import Records
from .store import Store

ORG_ID = "00DSb0000000001EAA"


class Org:
    def __init__(self, settings: SandboxSettings, instruments: Instruments):
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.instruments = instruments
        self.store = Store(settings.salesforce_db)
        self.records = Records(self.store)
        self.queries = QueryRunner(self.store)
        self.record_failures = RecordFailures()
        self.bulk = BulkJobs(self.store, settings.bulk_pending_polls)
        self.bulk_job_failures: list[str] = []  # errorMessages of the next ingest jobs to fail
        # the daily allocations /limits reports (Max); what is used lives in the store
        self.bulk_limits = {"DailyBulkApiBatches": 15_000, "DailyBulkV2QueryJobs": 10_000,
                            "DailyBulkV2QueryFileStorageMB": 976_562}
        self.used = self.store.meta("api_used")
        self.sessions = dict(self.store.db.execute("SELECT token, issued FROM _sessions"))

    # --- sessions --------------------------------------------------------------------------

    def new_session(self) -> tuple[str, float]:
        token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(72)}"
        issued = time.time()
        self.sessions[token] = issued
        self.store.db.execute("INSERT INTO _sessions VALUES (?, ?)", (token, issued))
        return token, issued

    def session_valid(self, token: str) -> bool:
        issued = self.sessions.get(token)
        return issued is not None and time.time() - issued < self.settings.token_ttl_seconds

    def expire_sessions(self) -> None:
        self.sessions.clear()
        self.store.db.execute("DELETE FROM _sessions")

    # --- daily API allowance -------------------------------------------------------------------

    @property
    def limit(self) -> int:
        return self.settings.daily_api_limit

    def exhausted(self) -> bool:
        return self.used >= self.limit

    def count_call(self) -> None:
        self.set_used(self.used + 1)

    def set_used(self, used: int) -> None:
        self.used = used
        self.store.set_meta("api_used", used)

    def limit_info(self) -> str:
        return f"api-usage={self.used}/{self.limit}"

    def reset(self) -> None:
        self.store.reset()
        self.queries.forget_cursors()
        self.record_failures.clear()
        self.bulk.forget_all()
        self.bulk.enabled, self.bulk.pending_polls = True, self.settings.bulk_pending_polls
        self.bulk_job_failures.clear()
        self.used = 0
