"""Failures of a Salesforce session, each worded so the operator knows what to do."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

RENEW_HINT = ("Renew the Salesforce connection: authorize the connected app again for a new "
              "refresh_token (or check username, password and security_token), then update the "
              "settings.")
CLIENT_HINT = ("Check client_id and client_secret: they must be the Consumer Key and Consumer "
               "Secret of the connected app (Setup, App Manager, the app, View, Manage Consumer "
               "Details), and the app must be enabled for OAuth in this org.")
TRANSIENT_HINT = ("This is a passing failure on Salesforce's side (or of the network), not a "
                  "problem with the credentials: nothing needs renewing; run again later.")


class SalesforceSessionError(Exception):
    """A failure that ends the run; its message is the whole story (no traceback needed)."""


class ConfigurationError(SalesforceSessionError):
    """Settings are missing or contradict each other."""


class GrantRefused(SalesforceSessionError):
    """The token endpoint refused the refresh token or password (invalid_grant)."""


class ClientRejected(SalesforceSessionError):
    """The token endpoint does not know the connected app (invalid_client_id, invalid_client)."""


class SalesforceUnavailable(SalesforceSessionError):
    """5xx, 429, lock errors or dropped connections outlasted every retry."""


class SalesforceUnreachable(SalesforceSessionError):
    """No connection: an unknown host, a refused port, an untrusted certificate, no TLS."""


class UsageLimitReached(SalesforceSessionError):
    """The org's 24-hour API usage reached max_api_usage_percent (or Salesforce's own limit)."""


class CallRefused(SalesforceSessionError):
    """Salesforce answered a call with an error that another try would not change."""

    def __init__(self, message: str, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@contextmanager
def clean_exit(logger: logging.Logger) -> Iterator[None]:
    """A session failure ends the program with its message alone and exit code 1."""
    try:
        yield
    except SalesforceSessionError as exc:
        logger.error("%s", exc)  # noqa: TRY400 - the message is the whole story
        raise SystemExit(1) from None
