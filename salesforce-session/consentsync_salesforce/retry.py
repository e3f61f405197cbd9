"""Which failures pass, and how long to wait before the next try: backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from simple_salesforce.exceptions import SalesforceError

from api_pacing import connection_problem

MAX_RETRY_AFTER_SECONDS = 900.0  # a longer Retry-After is waited out in a later run instead
# whole-call errors that the same call, sent again a little later, usually gets past
RETRIABLE_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})


class TokenServerError(Exception):
    """The token endpoint answered 5xx or 429: worth another try, nothing to renew."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"token endpoint answered HTTP {status} ({detail})")
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None,
              rng: Callable[[], float] = random.random) -> float:
        """Seconds before retry `attempt` (0-based): base * 2^attempt, capped, then jittered
        into its upper half so that many clients do not retry in step; at least Retry-After."""
        backoff = min(self.max_delay, self.base_delay * 2 ** attempt)
        jittered = backoff * (0.5 + rng() / 2)
        if retry_after is not None:
            return max(jittered, min(retry_after, MAX_RETRY_AFTER_SECONDS))
        return jittered


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_codes(content: object) -> list[str]:
    """The errorCode of each entry of a Salesforce error body (a JSON array), if any."""
    entries = content if isinstance(content, list) else [content]
    return [str(e.get("errorCode") or e.get("statusCode")) for e in entries
            if isinstance(e, Mapping) and (e.get("errorCode") or e.get("statusCode"))]


def error_text(exc: SalesforceError) -> str:
    """`CODE: message` from a Salesforce error body, else the status and raw body."""
    content = exc.content
    if isinstance(content, list):
        parts = [f"{e.get('errorCode', '')}: {e.get('message', '')}" for e in content
                 if isinstance(e, Mapping)]
        if parts:
            return "; ".join(parts)
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return f"HTTP {exc.status}: {str(content)[:500]}"


def transient_reason(exc: BaseException) -> str | None:
    """A short reason when `exc` is a passing failure worth another try, else None."""
    if isinstance(exc, requests.RequestException):
        # an untrusted certificate, an unknown host, a refused port stay so: no retry
        problem = connection_problem(exc, service="Salesforce", url_setting="", url="")
        return type(exc).__name__ if problem is not None and problem.retriable else None
    if isinstance(exc, TokenServerError):
        return str(exc)
    if isinstance(exc, SalesforceError):
        codes = error_codes(exc.content)
        if exc.status >= 500 or exc.status == 429:
            return f"HTTP {exc.status} {', '.join(codes)}".strip()
        retriable = [c for c in codes if c in RETRIABLE_CODES]
        if retriable:
            return f"HTTP {exc.status} {retriable[0]}"
    return None
