"""A token bucket of one token, refilled slightly slower than the API's documented limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_HEADROOM = 0.9  # 5 a second documented: 4.5 sent, 22 ms of slack per call


class TokenBucket:
    """`wait()` returns when the next call may start: at most `per_second × headroom` a second.

    The bucket holds one token, so no burst follows an idle spell: any one-second window sees
    at most `per_second` calls even when a request reaches the server a little early.
    """

    def __init__(self, per_second: float, headroom: float = DEFAULT_HEADROOM,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if per_second <= 0:
            raise ValueError(f"rate_limit_per_second must be above 0, got {per_second}")
        if not 0 < headroom <= 1:
            raise ValueError(f"headroom must be in (0, 1], got {headroom}")
        self.per_second = per_second
        self.interval = 1.0 / (per_second * headroom)
        self._clock = clock
        self._sleep = sleep
        self._next_token_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Take the token, sleeping until it is there; the seconds slept."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next_token_at)
            self._next_token_at = start + self.interval
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return max(0.0, delay)


_shared: dict[float, TokenBucket] = {}
_shared_lock = threading.Lock()


def shared_bucket(per_second: float, headroom: float = DEFAULT_HEADROOM) -> TokenBucket:
    """The process's one bucket for this limit: every client of the process draws from it."""
    with _shared_lock:
        bucket = _shared.get(per_second)
        if bucket is None:
            bucket = _shared[per_second] = TokenBucket(per_second, headroom)
        return bucket
