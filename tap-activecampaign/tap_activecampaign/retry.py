"""How long to wait before retrying a refused call: Retry-After if given, else exponential."""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from singer_sdk.exceptions import RetriableAPIError

FIRST_WAIT_SECONDS = 0.5
MAX_WAIT_SECONDS = 60.0


def retry_after_seconds(response: requests.Response | None,
                        now: datetime | None = None) -> float | None:
    """Seconds named by a Retry-After header (delta seconds or HTTP date), None when absent."""
    header = response.headers.get("Retry-After") if response is not None else None
    if not header:
        return None
    try:
        return min(max(float(header.strip()), 0.0), MAX_WAIT_SECONDS)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(delta, 0.0), MAX_WAIT_SECONDS)


def wait_generator() -> Generator[float, BaseException | None, None]:
    """A `backoff` wait generator: it is sent each failure and yields the wait before the retry."""
    attempt = 0
    exception = yield 0.0  # primed by backoff with send(None)
    while True:
        response = exception.response if isinstance(exception, RetriableAPIError) else None
        wait = retry_after_seconds(response)
        if wait is None:
            wait = min(FIRST_WAIT_SECONDS * 2**attempt, MAX_WAIT_SECONDS)
        attempt += 1
        exception = yield wait
