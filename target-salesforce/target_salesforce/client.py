"""Salesforce calls through simple-salesforce: token renewal, retries and the API usage guard."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.util import Usage

from .auth import RENEW_HINT, Credentials, TokenServiceUnavailable, request_token
from .errors import (
    ApiUsageLimitError,
    AuthenticationError,
    ConfigurationError,
    SalesforceCallError,
)
from .retry import call_with_retries

T = TypeVar("T")

DEFAULT_API_VERSION = "62.0"
DEFAULT_MAX_API_USAGE_PERCENT = 90
DEFAULT_MAX_RETRIES = 5
DEFAULT_RETRY_BACKOFF_SECONDS = 1.0
REQUEST_TIMEOUT = (15, 120)  # connect, read (seconds)


def is_transient(exc: BaseException) -> bool:
    """5xx answers, timeouts and dropped connections pass; a TLS trust problem does not."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    if isinstance(exc, requests.Timeout | requests.ConnectionError | TokenServiceUnavailable):
        return True
    return isinstance(exc, SalesforceGeneralError) and exc.status >= 500


def error_text(exc: SalesforceError) -> str:
    """``CODE: message`` from a Salesforce error body (a JSON array), else the raw body."""
    content = exc.content
    if isinstance(content, list):
        parts = [f"{e.get('errorCode', '')}: {e.get('message', '')}" for e in content
                 if isinstance(e, Mapping)]
        if parts:
            return "; ".join(parts)
    return f"HTTP {exc.status}: {content!r}"


class SalesforceClient:
    """One signed-in connection, shared by the sinks of a run."""

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.logger = logger
        self.credentials = Credentials.from_config(config)
        self.instance_url: str | None = config.get("instance_url") or None
        self.api_version = str(config.get("api_version") or DEFAULT_API_VERSION)
        self.max_usage_percent = float(config.get("max_api_usage_percent",
                                                  DEFAULT_MAX_API_USAGE_PERCENT))
        self.max_retries = int(config.get("max_retries", DEFAULT_MAX_RETRIES))
        self.backoff = float(config.get("retry_backoff_seconds", DEFAULT_RETRY_BACKOFF_SECONDS))
        if not 0 < self.max_usage_percent <= 100:
            raise ConfigurationError("max_api_usage_percent must be between 1 and 100")
        ca_bundle = config.get("ca_bundle") or None
        self.session = requests.Session()
        self.session.verify = ca_bundle or True
        # given per request too: REQUESTS_CA_BUNDLE would otherwise override the session's value
        self.request_kwargs: dict[str, Any] = {"timeout": REQUEST_TIMEOUT,
                                               "verify": ca_bundle or True}
        self._sf: Salesforce | None = None
        self.usage: Usage | None = None

    # connection

    def _connect(self) -> Salesforce:
        token = request_token(self.session, self.credentials, **self.request_kwargs)
        instance_url = token.instance_url or self.instance_url
        if not instance_url:
            raise ConfigurationError("Salesforce sent no instance_url; set instance_url")
        self.logger.info("Signed in to Salesforce at %s (%s grant, API v%s)", instance_url,
                         self.credentials.grant_type, self.api_version)
        return Salesforce(instance_url=instance_url, session_id=token.access_token,
                          session=self.session, version=self.api_version)

    def _renew(self) -> Salesforce:
        self.logger.info("Salesforce session expired or invalid; renewing the access token")
        try:
            self._sf = self._connect()
        except AuthenticationError as exc:
            raise AuthenticationError(f"The Salesforce session expired and could not be "
                                      f"renewed: {exc}") from exc
        return self._sf

    def _check_usage(self) -> None:
        """Stop before the call that would take the org past the allowed share of its limit."""
        usage = self.usage
        if usage is None or not usage.total:
            return
        if (usage.used + 1) * 100 > self.max_usage_percent * usage.total:
            raise ApiUsageLimitError(
                f"Stopped before exceeding max_api_usage_percent={self.max_usage_percent:g}: "
                f"the org has used {usage.used} of {usage.total} API requests in the last 24 "
                "hours. Records not yet written stay unwritten and the state did not move past "
                "them; run again when usage has dropped, or raise max_api_usage_percent."
            )

    def _note_usage(self) -> None:
        if self._sf is not None:
            usage = self._sf.api_usage.get("api-usage")
            if isinstance(usage, Usage):
                self.usage = usage

    def usage_summary(self) -> str:
        if self.usage is None or not self.usage.total:
            return "API usage unknown"
        percent = 100 * self.usage.used / self.usage.total
        return f"API usage {self.usage.used}/{self.usage.total} ({percent:.1f}%)"

    def call(self, what: str, action: Callable[[Salesforce], T], *,
             not_found_ok: bool = False) -> T:
        """Run one API call: guard usage, renew the session once on a 401, retry passing faults.

        With ``not_found_ok`` a 404 comes back as simple-salesforce's SalesforceResourceNotFound.
        """

        def attempt() -> T:
            self._check_usage()
            sf = self._sf or self._connect()
            self._sf = sf
            try:
                return action(sf)
            except SalesforceExpiredSession:
                sf = self._renew()
                try:
                    return action(sf)
                except SalesforceExpiredSession as exc:
                    raise AuthenticationError(
                        f"Salesforce rejected a freshly renewed session ({error_text(exc)}). "
                        f"{RENEW_HINT}") from exc
            finally:
                self._note_usage()

        try:
            return call_with_retries(attempt, is_transient=is_transient,
                                     max_retries=self.max_retries, base_delay=self.backoff,
                                     logger=self.logger, what=f"Salesforce {what}")
        except SalesforceRefusedRequest as exc:
            text = error_text(exc)
            if "REQUEST_LIMIT_EXCEEDED" in text:
                raise ApiUsageLimitError(f"Salesforce refused {what}: {text}. The org is out "
                                         "of API requests; run again later.") from exc
            raise SalesforceCallError(f"Salesforce refused {what}: {text}") from exc
        except SalesforceResourceNotFound as exc:
            if not_found_ok:
                raise
            raise SalesforceCallError(f"Salesforce {what} failed: {error_text(exc)}") from exc
        except SalesforceError as exc:
            raise SalesforceCallError(f"Salesforce {what} failed: {error_text(exc)}") from exc
        except requests.RequestException as exc:
            raise SalesforceCallError(
                f"Salesforce {what} failed after {self.max_retries} retries: {exc}") from exc
        except TokenServiceUnavailable as exc:
            raise SalesforceCallError(f"Salesforce sign-in failed after {self.max_retries} "
                                      f"retries: {exc}") from exc

    # the calls the sinks make

    def describe(self, sobject: str) -> dict[str, Any] | None:
        """The sObject's describe, or None when the org has no such object."""
        try:
            return self.call(f"describe of {sobject}", lambda sf: sf.restful(
                f"sobjects/{sobject}/describe", **self.request_kwargs), not_found_ok=True)
        except SalesforceResourceNotFound:
            return None

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every row of a query, following ``nextRecordsUrl`` page by page."""
        page = self.call("query", lambda sf: sf.query(soql, **self.request_kwargs))
        rows = list(page["records"])
        while not page.get("done", True):
            next_url = page["nextRecordsUrl"]
            page = self.call("query", lambda sf, url=next_url: sf.query_more(
                url, identifier_is_url=True, **self.request_kwargs))
            rows.extend(page["records"])
        return rows

    def update_collection(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = {"allOrNone": False, "records": records}
        return self.call("update (sObject Collections)", lambda sf: sf.restful(
            "composite/sobjects", method="PATCH", json=body, **self.request_kwargs)) or []

    def upsert_collection(self, sobject: str, external_id_field: str,
                          records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = {"allOrNone": False, "records": records}
        return self.call(f"upsert of {sobject} by {external_id_field}", lambda sf: sf.restful(
            f"composite/sobjects/{sobject}/{external_id_field}", method="PATCH", json=body,
            **self.request_kwargs)) or []
