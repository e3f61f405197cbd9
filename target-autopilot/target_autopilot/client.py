"""The Autopilot v1 HTTP client: the API key header, the rate limit, retries with backoff."""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests

from api_pacing import FatalError, check_ca_bundle, connection_problem, shared_bucket

log = logging.getLogger("target-autopilot")
RETRIABLE = {429, 500, 502, 503, 504}


class AutopilotRejected(Exception):
    """A 4xx answer other than 429: the request itself is wrong; retrying will not help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


class AutopilotUnavailable(FatalError):
    """Retries exhausted on 429, 5xx or network errors."""


class AutopilotUnreachable(FatalError):
    """No connection that another try could make: the base_url or ca_bundle setting is wrong."""


class AutopilotClient:
    """One session for the whole run; every call (retries too) takes a token of the process's
    bucket, paced at 90 % of `rate_limit_per_second`, so no 429 in normal operation."""

    def __init__(self, base_url: str, api_key: str, ca_bundle: str | None = None,
                 rate_limit_per_second: float = 5.0, max_retries: int = 5,
                 backoff_seconds: float = 1.0) -> None:
        self.base_url = base_url.rstrip("/")
        bad_ca = check_ca_bundle(ca_bundle)
        if bad_ca:
            raise AutopilotUnreachable(bad_ca)
        self.session = requests.Session()
        self.session.trust_env = False  # `verify` below is the only trust; no proxies
        self.session.headers.update({"autopilotapikey": api_key,
                                     "Content-Type": "application/json"})
        self.verify: str | bool = ca_bundle or True
        # 0 or less: unpaced (unit tests against a mock)
        self.limiter = shared_bucket(rate_limit_per_second) if rate_limit_per_second > 0 else None
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.calls = 0

    def request(self, method: str, path: str, json: Any = None,  # noqa: ANN401
                ok_statuses: tuple[int, ...] = ()) -> Any:  # noqa: ANN401
        """The decoded JSON answer (None when empty); 429, 5xx and network errors retried."""
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            if self.limiter:
                self.limiter.wait()
            self.calls += 1
            try:
                response = self.session.request(method, url, json=json, verify=self.verify,
                                                timeout=60)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failed = connection_problem(exc, service="Autopilot", url_setting="base_url",
                                            url=self.base_url)
                if failed is None or not failed.retriable:
                    raise AutopilotUnreachable(failed.message if failed else str(exc)) from None
                problem, retry_after, advice = failed.message, None, ""
            else:
                if response.status_code < 300 or response.status_code in ok_statuses:
                    return _body(response)
                message = _message(response)
                if response.status_code not in RETRIABLE:
                    raise AutopilotRejected(response.status_code, message)
                problem = f"{response.status_code} {message}"
                retry_after = response.headers.get("Retry-After")
                advice = ("; lower rate_limit_per_second (Autopilot allows 5 a second)"
                          if response.status_code == 429 else "; Autopilot is unavailable: "
                          "run again later")
            if attempt == self.max_retries:
                raise AutopilotUnavailable(
                    f"{method} {path}: {problem} after {attempt + 1} attempts{advice}")
            wait = _seconds(retry_after)
            if wait is None:
                wait = min(60.0, self.backoff_seconds * 2 ** attempt)
            log.warning("%s %s: %s; retrying in %.1f s", method, path, problem, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")


def _body(response: requests.Response) -> Any:  # noqa: ANN401
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(body)[:200]


def _seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def in_path(email_or_id: str) -> str:
    """A contact's email as one path segment (`+`, `/` and `%` escaped, `@` kept)."""
    return quote(email_or_id, safe="@")
