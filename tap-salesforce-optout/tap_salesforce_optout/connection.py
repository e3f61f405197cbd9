"""A Salesforce connection for reading: OAuth token, session renewal, API-usage guard.

simple-salesforce has no refresh-token grant and never renews a session id it was given, so the
token is fetched here with requests, handed over, and fetched again once on a 401.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession
from simple_salesforce.util import Usage

T = TypeVar("T")
DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_API_VERSION = "62.0"
TIMEOUT = 120
RENEW_HINT = ("Renew the Salesforce connection: authorize the connected app again for a new "
              "refresh_token (or check username, password and security_token), then update the "
              "tap's settings.")


class ConnectionFailed(Exception):
    pass


class UsageLimitReached(Exception):
    pass


def token_error(response: requests.Response) -> str:
    """`invalid_grant: authentication failure`, whichever error shape the answer has."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = {"error": body[0].get("errorCode"), "error_description": body[0].get("message")}
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    return f"{body.get('error')}: {body.get('error_description')}"


class SalesforceConnection:
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        self.api_version = str(config.get("api_version") or DEFAULT_API_VERSION)
        self.max_usage_percent = float(config.get("max_api_usage_percent") or 90)
        self.session = requests.Session()
        # per request as well: REQUESTS_CA_BUNDLE would otherwise replace the session's value
        self.verify: str | bool = config.get("ca_bundle") or True
        self.session.verify = self.verify
        self._sf: Salesforce | None = None
        self.usage: Usage | None = None
        self.calls = 0

    @property
    def sf(self) -> Salesforce:
        if self._sf is None:
            self._sf = self._connect()
        return self._sf

    def _form(self) -> dict[str, str]:
        c = self.config
        form = {"client_id": c.get("client_id") or "", "client_secret": c.get("client_secret")
                or ""}
        if c.get("refresh_token"):
            return {**form, "grant_type": "refresh_token", "refresh_token": c["refresh_token"]}
        if c.get("username") and c.get("password"):
            password = c["password"] + (c.get("security_token") or "")
            return {**form, "grant_type": "password", "username": c["username"],
                    "password": password}
        raise ConnectionFailed("Set refresh_token (with client_id and client_secret), or "
                               "username, password and security_token, to sign in to Salesforce.")

    def _connect(self) -> Salesforce:
        login_url = (self.config.get("login_url") or DEFAULT_LOGIN_URL).rstrip("/")
        form = self._form()
        try:
            response = self.session.post(f"{login_url}/services/oauth2/token", data=form,
                                         verify=self.verify, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ConnectionFailed(f"Salesforce token endpoint {login_url} unreachable "
                                   f"({type(exc).__name__}).") from exc
        self.calls += 1
        if response.status_code != 200:
            reason = token_error(response)
            raise ConnectionFailed(f"Salesforce refused the {form['grant_type']} grant "
                                   f"({reason}). {RENEW_HINT}")
        token = response.json()
        instance_url = token.get("instance_url") or self.config.get("instance_url")
        self.logger.info("Signed in to Salesforce at %s (%s grant, API v%s)", instance_url,
                         form["grant_type"], self.api_version)
        return Salesforce(instance_url=instance_url, session_id=token["access_token"],
                          session=self.session, version=self.api_version)

    def call(self, action: Callable[[Salesforce], T], guarded: bool = False) -> T:
        """One API call, renewing an expired session once; `guarded`: usage guard first."""
        if guarded:
            self._guard()
        for attempt in (1, 2):
            try:
                self.calls += 1
                result = action(self.sf)
                break
            except SalesforceExpiredSession:
                if attempt == 2:
                    raise ConnectionFailed("The Salesforce session is refused even after "
                                           f"renewal. {RENEW_HINT}") from None
                self.logger.info("Salesforce session expired; renewing the access token")
                try:
                    self._sf = self._connect()
                except ConnectionFailed as exc:
                    raise ConnectionFailed(f"The Salesforce session expired and could not be "
                                           f"renewed: {exc}") from exc
        usage = self.sf.api_usage.get("api-usage")
        if isinstance(usage, Usage):
            self.usage = usage
        return result

    def _guard(self) -> None:
        usage = self.usage
        if usage is None or not usage.total:
            return
        if (usage.used + 1) * 100 > self.max_usage_percent * usage.total:
            raise UsageLimitReached(
                f"Stopped reading before passing max_api_usage_percent="
                f"{self.max_usage_percent:g}: the org has used {usage.used} of {usage.total} API "
                "requests in the last 24 hours. The bookmarks keep what was read; run again "
                "later or raise max_api_usage_percent.")

    def usage_text(self) -> str:
        if self.usage is None or not self.usage.total:
            return "API usage unknown"
        return (f"API usage {self.usage.used}/{self.usage.total} "
                f"({100 * self.usage.used / self.usage.total:.1f}%)")
