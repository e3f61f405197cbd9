"""The ActiveCampaign v3 HTTP client: the Api-Token header, the rate limit, retries."""

from __future__ import annotations

import logging
import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from api_pacing import FatalError, check_ca_bundle, connection_problem

log = logging.getLogger("target-activecampaign")
RETRIABLE = {429, 500, 502, 503, 504}


class Rejected(Exception):
    """A 4xx answer other than 429: the request itself is wrong; retrying will not help."""

    def __init__(self, status: int, body: Any, path: str) -> None:  # noqa: ANN401
        self.status = status
        self.body = body
        self.path = path
        hint = ("; check api_token and api_url (Settings, Developer)" if status in (401, 403)
                else "")
        super().__init__(f"ActiveCampaign answered {status} on {path}: {describe(body)}{hint}")

    @property
    def message(self) -> str:
        return describe(self.body)


class Unavailable(FatalError):
    """Retries exhausted on 429, 5xx or network errors."""


class Unreachable(FatalError):
    """No connection that another try could make: the api_url or ca_bundle setting is wrong."""


def describe(body: Any) -> str:  # noqa: ANN401
    """ActiveCampaign's error text, whatever the body's shape (`{}`, message, errors, import)."""
    if isinstance(body, dict):
        if body.get("errors"):
            return "; ".join(str(e.get("title") or e.get("detail") or e)
                             for e in body["errors"] if isinstance(e, dict))
        if body.get("failureReasons"):
            return f"{body.get('message')}: {body['failureReasons']}"
        if body.get("message"):
            return str(body["message"])
        return "no detail (empty body)"
    return str(body)[:300] if body else "no detail (empty body)"


class RateLimiter:
    """Spaces calls evenly: at most `per_second` a second across the whole process."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            delay = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
        if delay > 0:
            time.sleep(delay)


class Client:
    def __init__(self, api_url: str, api_token: str, ca_bundle: str | None = None,
                 rate_limit_per_second: float = 4.0, max_retries: int = 5,
                 backoff_seconds: float = 1.0) -> None:
        self.base_url = api_url.rstrip("/")
        bad_ca = check_ca_bundle(ca_bundle)
        if bad_ca:
            raise Unreachable(bad_ca)
        self.session = requests.Session()
        self.session.trust_env = False  # `verify` below is the only trust; no proxies
        self.session.headers.update({"Api-Token": api_token, "Accept": "application/json"})
        self.verify: str | bool = ca_bundle or True
        self.limiter = RateLimiter(rate_limit_per_second)
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.calls = 0

    def request(self, method: str, path: str, json: Any = None,  # noqa: ANN401
                params: dict | None = None, ok_statuses: tuple[int, ...] = ()) -> Any:  # noqa: ANN401
        """The decoded JSON answer; 429, 5xx and network errors retried with backoff."""
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            self.limiter.wait()
            self.calls += 1
            try:
                response = self.session.request(method, url, json=json, params=params,
                                                verify=self.verify, timeout=60)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failed = connection_problem(exc, service="ActiveCampaign", url_setting="api_url",
                                            url=self.base_url)
                if failed is None or not failed.retriable:
                    raise Unreachable(failed.message if failed else str(exc)) from None
                problem, retry_after, advice = failed.message, None, ""
            else:
                body = _body(response)
                if response.status_code < 300 or response.status_code in ok_statuses:
                    return body
                if response.status_code not in RETRIABLE:
                    raise Rejected(response.status_code, body, path)
                problem = f"{response.status_code} {describe(body)}"
                retry_after = response.headers.get("Retry-After")
                advice = ("; lower rate_limit_per_second (ActiveCampaign allows 5 a second per "
                          "account, shared)" if response.status_code == 429
                          else "; ActiveCampaign is unavailable: run again later")
            if attempt == self.max_retries:
                raise Unavailable(f"{method} {path}: {problem} after {attempt + 1} "
                                  f"attempts{advice}")
            wait = _seconds(retry_after)
            if wait is None:
                wait = min(60.0, self.backoff_seconds * 2 ** attempt)
            log.warning("%s %s: %s; retrying in %.1f s", method, path, problem, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")

    def pages(self, path: str, key: str, params: dict | None = None) -> list[dict]:
        """Every row of a `limit`/`offset` collection."""
        rows: list[dict] = []
        while True:
            body = self.request("GET", path, params={**(params or {}), "limit": 100,
                                                     "offset": len(rows)}) or {}
            page = body.get(key) or []
            rows += page
            total = (body.get("meta") or {}).get("total")
            if not page or len(page) < 100 or (total is not None and len(rows) >= int(total)):
                return rows


def _body(response: requests.Response) -> Any:  # noqa: ANN401
    try:
        return response.json() if response.content else None
    except ValueError:
        return response.text[:300]


def _seconds(value: str | None) -> float | None:
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
