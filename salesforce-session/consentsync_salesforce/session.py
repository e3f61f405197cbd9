"""One signed-in Salesforce session with one behaviour for every call.

Every call (token, describe, query page, write, Bulk job call) goes through `call`: the usage
guard first, a timeout, renewal of an expired session once, and retries with backoff and jitter
for 5xx, 429 (at least its Retry-After), UNABLE_TO_LOCK_ROW and dropped connections.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceResourceNotFound,
)

from api_pacing import ConnectionProblem, check_ca_bundle, connection_problem

from .errors import (
    RENEW_HINT,
    TRANSIENT_HINT,
    CallRefused,
    ClientRejected,
    ConfigurationError,
    GrantRefused,
    SalesforceUnavailable,
    SalesforceUnreachable,
    UsageLimitReached,
)
from .retry import (
    RetryPolicy,
    TokenServerError,
    error_codes,
    error_text,
    parse_retry_after,
    transient_reason,
)
from .token import Credentials, request_token
from .usage import UsageGuard

T = TypeVar("T")
DEFAULT_API_VERSION = "62.0"
DEFAULT_MAX_API_USAGE_PERCENT = 90
DEFAULT_MAX_RETRIES = 5
DEFAULT_RETRY_BACKOFF_SECONDS = 1.0
DEFAULT_REQUEST_TIMEOUT_SECONDS = 120
CONNECT_TIMEOUT_SECONDS = 15


class TimeoutSession(requests.Session):
    """A requests session whose every request has a timeout, whoever sends it."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class SessionSettings:
    instance_url: str | None
    api_version: str
    ca_bundle: str | None
    max_api_usage_percent: float
    retry: RetryPolicy
    request_timeout: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SessionSettings:
        def number(key: str, default: float) -> float:
            value = config.get(key)
            return default if value is None or value == "" else float(value)

        percent = number("max_api_usage_percent", DEFAULT_MAX_API_USAGE_PERCENT)
        if not 0 < percent <= 100:
            raise ConfigurationError("max_api_usage_percent must be between 1 and 100")
        bad_ca = check_ca_bundle(config.get("ca_bundle"))
        if bad_ca:
            raise ConfigurationError(bad_ca)
        return cls(instance_url=config.get("instance_url") or None,
                   api_version=str(config.get("api_version") or DEFAULT_API_VERSION),
                   ca_bundle=config.get("ca_bundle") or None,
                   max_api_usage_percent=percent,
                   retry=RetryPolicy(max_retries=int(number("max_retries", DEFAULT_MAX_RETRIES)),
                                     base_delay=number("retry_backoff_seconds",
                                                       DEFAULT_RETRY_BACKOFF_SECONDS)),
                   request_timeout=number("request_timeout_seconds",
                                          DEFAULT_REQUEST_TIMEOUT_SECONDS))


class SalesforceSession:
    """One token, one usage count and one retry behaviour for every call of a run."""

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.logger = logger
        self.settings = SessionSettings.from_config(config)
        self.credentials = Credentials.from_config(config)
        self.retry = self.settings.retry
        self.guard = UsageGuard(self.settings.max_api_usage_percent)
        self.http = TimeoutSession((CONNECT_TIMEOUT_SECONDS, self.settings.request_timeout))
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace `verify`
        self.http.verify = self.settings.ca_bundle or True
        self.http.hooks["response"].append(self._on_response)
        self.sleep = sleep
        self.calls = 0  # answered HTTP requests, retries and sign-ins included
        self._sf: Salesforce | None = None
        self._retry_after: float | None = None

    # every answer passes here, whichever client sent the request

    def _on_response(self, response: requests.Response, *args: Any,
                     **kwargs: Any) -> requests.Response:
        self.calls += 1
        self.guard.note(response.headers.get("Sforce-Limit-Info"))
        self._retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return response

    # signing in

    def _sign_in(self) -> Salesforce:
        token = request_token(self.http, self.credentials)
        instance_url = token.instance_url or self.settings.instance_url
        if not instance_url:
            raise ConfigurationError("Salesforce sent no instance_url; set instance_url")
        self.logger.info("Signed in to Salesforce at %s (%s grant, API v%s)", instance_url,
                         self.credentials.grant_type, self.settings.api_version)
        self._sf = Salesforce(instance_url=instance_url, session_id=token.access_token,
                              session=self.http, version=self.settings.api_version)
        return self._sf

    @property
    def sf(self) -> Salesforce:
        """The signed-in simple-salesforce client (signs in, with retries, on first use)."""
        return self._sf or self.call("sign-in", lambda sf: sf)

    @property
    def access_token(self) -> str:
        return self.sf.session_id

    # the one way calls are made

    def call(self, what: str, action: Callable[[Salesforce], T]) -> T:
        """Run one API call with the guard, the timeout, renewal once and retries."""
        attempt, renewed = 0, False
        while True:
            self.guard.check(what)
            self._retry_after = None
            try:
                try:
                    sf = self._sf or self._sign_in()
                except (GrantRefused, ClientRejected) as exc:
                    if renewed:
                        raise type(exc)("The Salesforce session expired and could not be "
                                        f"renewed: {exc}") from exc
                    raise
                return action(sf)
            except SalesforceExpiredSession as exc:
                if renewed:
                    raise GrantRefused(f"Salesforce refused a freshly renewed session for "
                                       f"{what} ({error_text(exc)}). {RENEW_HINT}") from exc
                self.logger.info("Salesforce session expired or invalid; renewing the access "
                                 "token")
                self._sf, renewed = None, True
                continue
            except (requests.RequestException, SalesforceError, TokenServerError) as exc:
                problem = self._connection_problem(exc)
                if problem is not None and not problem.retriable:
                    raise SalesforceUnreachable(problem.message) from exc
                reason = transient_reason(exc)
                if reason is None:
                    raise self._refusal(what, exc) from exc
                where = "sign-in" if isinstance(exc, TokenServerError) else what
                if attempt >= self.retry.max_retries:
                    hint = problem.message if problem is not None else TRANSIENT_HINT
                    raise SalesforceUnavailable(
                        f"Salesforce {where} failed {attempt + 1} times ({reason}). "
                        f"{hint}") from exc
                delay = self.retry.delay(attempt, self._retry_after)
                self.logger.warning("Salesforce %s failed (%s); retry %d of %d in %.1fs", where,
                                    reason, attempt + 1, self.retry.max_retries, delay)
                self.sleep(delay)
                attempt += 1

    def _connection_problem(self, exc: Exception) -> ConnectionProblem | None:
        """A failed connection, worded after the setting that gave its address."""
        if not isinstance(exc, requests.RequestException):
            return None
        request_url = str(getattr(exc.request, "url", "") or "")
        if request_url.startswith(self.credentials.login_url) or self._sf is None:
            setting, url = "login_url", self.credentials.login_url
        else:
            setting = "instance_url"
            url = self.settings.instance_url or f"https://{self._sf.sf_instance}"
        return connection_problem(exc, service="Salesforce", url_setting=setting, url=url)

    @staticmethod
    def _refusal(what: str, exc: Exception) -> Exception:
        if isinstance(exc, requests.RequestException):
            return CallRefused(f"Salesforce {what} failed: {type(exc).__name__}: {exc}")
        assert isinstance(exc, SalesforceError)
        codes = error_codes(exc.content)
        if "REQUEST_LIMIT_EXCEEDED" in codes:
            return UsageLimitReached(
                f"Salesforce refused {what}: the org has used up its 24-hour API allowance "
                f"({error_text(exc)}). Nothing past what was handled is bookmarked; run again "
                "when usage has dropped.")
        return CallRefused(f"Salesforce refused {what}: {error_text(exc)}", exc.status,
                           codes[0] if codes else "")

    # calls both plugins make

    def describe(self, sobject: str) -> dict[str, Any] | None:
        """The sObject's describe, or None when the org shows no such object."""
        try:
            return self.call(f"describe of {sobject}",
                             lambda sf: sf.restful(f"sobjects/{sobject}/describe"))
        except CallRefused as exc:
            if isinstance(exc.__cause__, SalesforceResourceNotFound):
                return None
            raise

    def query_pages(self, soql: str, *, include_deleted: bool = False,
                    page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """Each page of a query (queryAll with `include_deleted`), following nextRecordsUrl;
        a page that fails is asked for again, also after a renewal mid-paging."""
        headers = {"Sforce-Query-Options": f"batchSize={page_size}"} if page_size else {}
        page = self.call("query", lambda sf: sf.query(soql, include_deleted=include_deleted,
                                                      headers=headers))
        yield page
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            url = page["nextRecordsUrl"]
            page = self.call("query page", lambda sf, url=url: sf.query_more(
                url, identifier_is_url=True, headers=headers))
            yield page

    def query(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        return [row for page in self.query_pages(soql, include_deleted=include_deleted)
                for row in page["records"]]

    def restful(self, what: str, path: str, method: str = "GET", **kwargs: Any) -> Any:
        return self.call(what, lambda sf: sf.restful(path, method=method, **kwargs))

    def limits(self) -> dict[str, Any]:
        limits = self.restful("limits", "limits")
        self.guard.note_limits(limits)
        return limits

    def usage_text(self) -> str:
        return self.guard.text()
