"""Client-side spacing of calls, so the tap stays under ActiveCampaign's 5 requests a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests


class RateLimiter:
    """Lets at most `per_second` calls start each second, evenly spaced."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if per_second <= 0:
            raise ValueError(f"rate_limit_per_second must be above 0, got {per_second}")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next_slot)
            self._next_slot = start + self.interval
        if start > now:
            self._sleep(start - now)


class ThrottledSession(requests.Session):
    """A requests session whose every call (retries included) waits for the rate limiter."""

    def __init__(self, limiter: RateLimiter) -> None:
        super().__init__()
        self.trust_env = False  # `verify` is set from ca_bundle; REQUESTS_CA_BUNDLE must not win
        self.limiter = limiter
        self.calls = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.limiter.wait()
        self.calls += 1
        return super().send(request, **kwargs)
