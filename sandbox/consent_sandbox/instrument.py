"""Call counting and deterministic fault injection, shared by both API stand-ins.

The middleware sits in front of the real API paths only; the admin surface under
``/_sandbox/`` is neither counted nor faulted.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

ADMIN_PREFIX = "/_sandbox"

# (status, error_code, message) -> the API's own error body
ErrorRenderer = Callable[[int, str, str], Response]


@dataclass
class Fault:
    """One injected failure: the next ``count`` matching requests, or a ``fraction`` of them."""

    status: int = 500
    error_code: str = ""
    message: str = ""
    count: int | None = None
    fraction: float | None = None
    endpoint: str | None = None  # substring of the route template, e.g. "composite/sobjects"
    method: str | None = None
    per_record: bool = False  # Salesforce collections: fail records, not the request
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def matches(self, endpoint: str, method: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.endpoint or self.endpoint in endpoint

    def fire(self) -> bool:
        """Decide deterministically whether this request fails; consumes one of ``count``."""
        if self.count is not None:
            if self.count <= 0:
                return False
            self.count -= 1
            return True
        if self.fraction is not None:
            return self._rng.random() < self.fraction
        return False

    @property
    def spent(self) -> bool:
        return self.count is not None and self.count <= 0


class Instruments:
    """Counters and faults of one API; thread-safe because tests read them from other threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.faults: list[Fault] = []
        self.latency_ms = 0

    def count(self, method: str, endpoint: str) -> None:
        with self._lock:
            self.calls[(method, endpoint)] += 1

    def snapshot(self) -> dict:
        with self._lock:
            rows = [
                {"method": m, "endpoint": e, "count": n} for (m, e), n in sorted(self.calls.items())
            ]
        return {
            "total": sum(r["count"] for r in rows),
            # data-changing calls: signing in (POST to the token endpoint) changes no record
            "writes": sum(r["count"] for r in rows
                          if r["method"] != "GET" and not r["endpoint"].endswith("/token")),
            "calls": rows,
        }

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
            self.latency_ms = 0

    def take_fault(self, endpoint: str, method: str, per_record: bool = False) -> Fault | None:
        """The first live fault that fires for this request (or record), if any."""
        with self._lock:
            for fault in self.faults:
                if fault.per_record == per_record and fault.matches(endpoint, method):
                    if fault.fire():
                        self.faults = [f for f in self.faults if not f.spent]
                        return fault
            return None


class InstrumentMiddleware:
    """Counts every API call by route template and method, then applies latency and faults."""

    def __init__(self, app: ASGIApp, instruments: Instruments, render_error: ErrorRenderer):
        self.app = app
        self.instruments = instruments
        self.render_error = render_error

    def _endpoint(self, scope: Scope) -> str:
        router = self.app
        while not hasattr(router, "routes") and hasattr(router, "app"):
            router = router.app
        for route in getattr(router, "routes", []):
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return getattr(route, "path", scope["path"])
        return scope["path"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        endpoint, method = self._endpoint(scope), scope["method"]
        self.instruments.count(method, endpoint)
        if self.instruments.latency_ms:
            await asyncio.sleep(self.instruments.latency_ms / 1000)
        fault = self.instruments.take_fault(endpoint, method)
        if fault is not None:
            response = self.render_error(fault.status, fault.error_code, fault.message)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
