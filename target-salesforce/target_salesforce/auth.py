"""OAuth 2.0 access tokens from ``<login_url>/services/oauth2/token``.

simple-salesforce has no refresh-token grant of its own, so the token is fetched here and handed
to it as a session id. Secrets go into the form body only, never into a message or log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from .errors import AuthenticationError, ConfigurationError

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
RENEW_HINT = (
    "Renew the Salesforce connection: authorize the connected app again to get a new "
    "refresh_token (or check username, password and security_token), then update the settings."
)


class TokenServiceUnavailable(Exception):
    """The token endpoint answered 5xx: worth another try."""


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
        has_refresh = bool(config.get("refresh_token"))
        has_password = bool(config.get("username") and config.get("password"))
        if not (has_refresh or has_password):
            missing.append("refresh_token (or username and password)")
        if missing:
            raise ConfigurationError(
                "target-salesforce needs these settings to sign in to Salesforce: "
                + ", ".join(missing)
            )
        return cls(
            login_url=(config.get("login_url") or DEFAULT_LOGIN_URL).rstrip("/"),
            client_id=config["client_id"],
            client_secret=config["client_secret"],
            refresh_token=config.get("refresh_token") or None,
            username=config.get("username") or None,
            password=config.get("password") or None,
            security_token=config.get("security_token") or None,
        )

    @property
    def grant_type(self) -> str:
        return "refresh_token" if self.refresh_token else "password"

    def form(self) -> dict[str, str]:
        body = {"grant_type": self.grant_type, "client_id": self.client_id,
                "client_secret": self.client_secret}
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        else:
            # the password grant wants the security token appended to the password
            body["username"] = self.username or ""
            body["password"] = (self.password or "") + (self.security_token or "")
        return body


@dataclass(frozen=True)
class AccessToken:
    access_token: str = field(repr=False)
    instance_url: str | None


def request_token(session: requests.Session, credentials: Credentials,
                  **request_kwargs: Any) -> AccessToken:
    """One token request; raises AuthenticationError when Salesforce refuses the grant."""
    url = f"{credentials.login_url}/services/oauth2/token"
    response = session.post(url, data=credentials.form(), **request_kwargs)
    if response.status_code >= 500:
        raise TokenServiceUnavailable(f"token endpoint answered {response.status_code}")
    if response.status_code != 200:
        raise AuthenticationError(
            f"Salesforce refused the {credentials.grant_type} grant at {url} "
            f"({_oauth_error(response)}). {RENEW_HINT}"
        )
    body = response.json()
    if not body.get("access_token"):
        raise AuthenticationError(f"Salesforce answered without an access_token at {url}. "
                                  f"{RENEW_HINT}")
    return AccessToken(access_token=body["access_token"], instance_url=body.get("instance_url"))


def _oauth_error(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        error = body.get("error", f"HTTP {response.status_code}")
        description = body.get("error_description")
        return f"{error}: {description}" if description else str(error)
    return f"HTTP {response.status_code}"
