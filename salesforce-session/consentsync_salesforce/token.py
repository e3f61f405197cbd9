"""OAuth 2.0 access tokens from `<login_url>/services/oauth2/token`.

simple-salesforce's own token login (`login.token_login`) takes no timeout, keeps no HTTP status
(so a 503 cannot be told from a refused grant) and fails on an error body that is a JSON array;
the grant is therefore posted here with requests and the token handed to simple-salesforce.
Secrets go into the form body only, never into a message or a log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from .errors import (
    CLIENT_HINT,
    RENEW_HINT,
    CallRefused,
    ClientRejected,
    ConfigurationError,
    GrantRefused,
)
from .retry import TokenServerError

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
CLIENT_ERRORS = frozenset({"invalid_client_id", "invalid_client"})


@dataclass(frozen=True)
class Credentials:
    login_url: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Credentials:
        missing = [key for key in ("client_id", "client_secret") if not config.get(key)]
        if not (config.get("refresh_token") or (config.get("username")
                                                 and config.get("password"))):
            missing.append("refresh_token (or username and password)")
        if missing:
            raise ConfigurationError("Salesforce sign-in needs these settings: "
                                     + ", ".join(missing))
        return cls(login_url=(config.get("login_url") or DEFAULT_LOGIN_URL).rstrip("/"),
                   client_id=config["client_id"], client_secret=config["client_secret"],
                   refresh_token=config.get("refresh_token") or None,
                   username=config.get("username") or None,
                   password=config.get("password") or None,
                   security_token=config.get("security_token") or None)

    @property
    def grant_type(self) -> str:
        return "refresh_token" if self.refresh_token else "password"

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/services/oauth2/token"

    def form(self) -> dict[str, str]:
        body = {"grant_type": self.grant_type, "client_id": self.client_id,
                "client_secret": self.client_secret}
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        else:  # the password grant wants the security token appended to the password
            body["username"] = self.username or ""
            body["password"] = (self.password or "") + (self.security_token or "")
        return body


@dataclass(frozen=True)
class AccessToken:
    access_token: str = field(repr=False)
    instance_url: str | None


def oauth_error(response: requests.Response) -> tuple[str, str]:
    """(error, description) of an OAuth error, whichever shape the body has."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}", ""
    if isinstance(body, list) and body and isinstance(body[0], dict):  # REST error shape
        return str(body[0].get("errorCode") or ""), str(body[0].get("message") or "")
    if isinstance(body, dict):
        return str(body.get("error") or ""), str(body.get("error_description") or "")
    return f"HTTP {response.status_code}", ""


def request_token(http: requests.Session, credentials: Credentials) -> AccessToken:
    """One token request. Raises TokenServerError (5xx, 429: retry), ClientRejected (wrong
    consumer key or secret), GrantRefused (invalid_grant: renew) or CallRefused (other)."""
    url = credentials.token_url
    response = http.post(url, data=credentials.form())
    status = response.status_code
    if status >= 500 or status == 429:
        error, description = oauth_error(response)
        raise TokenServerError(status, f"{error}: {description}" if description else error)
    if status != 200:
        error, description = oauth_error(response)
        said = f"{error}: {description}" if description else error
        if error in CLIENT_ERRORS:
            raise ClientRejected(f"Salesforce does not accept the connected app's credentials "
                                 f"at {url} ({said}). {CLIENT_HINT}")
        if error == "invalid_grant":
            raise GrantRefused(f"Salesforce refused the {credentials.grant_type} grant at {url} "
                               f"({said}). {RENEW_HINT}")
        raise CallRefused(f"Salesforce refused the {credentials.grant_type} grant at {url} "
                          f"(HTTP {status}, {said}): check the connected app's OAuth policies "
                          "and the integration user.", status, error)
    body = response.json()
    if not body.get("access_token"):
        raise GrantRefused(f"Salesforce answered without an access_token at {url}. {RENEW_HINT}")
    return AccessToken(access_token=body["access_token"], instance_url=body.get("instance_url"))
