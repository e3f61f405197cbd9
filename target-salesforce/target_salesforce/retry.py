"""Retrying calls that failed for a passing reason, with exponential backoff."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

MAX_DELAY_SECONDS = 60.0


def backoff_delay(attempt: int, base_seconds: float) -> float:
    """Delay before retry number ``attempt`` (0-based): base, 2x base, 4x base, ... capped."""
    return min(base_seconds * (2**attempt), MAX_DELAY_SECONDS)


def call_with_retries(
    call: Callable[[], T],
    *,
    is_transient: Callable[[BaseException], bool],
    max_retries: int,
    base_delay: float,
    logger: logging.Logger,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``; on a transient failure wait and run it again, up to ``max_retries`` times."""
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:
            if attempt >= max_retries or not is_transient(exc):
                raise
            delay = backoff_delay(attempt, base_delay)
            logger.warning("%s failed (%s); retry %d of %d in %.1fs", what,
                           type(exc).__name__, attempt + 1, max_retries, delay)
            sleep(delay)
            attempt += 1
