"""One Salesforce session for Singer plugins: sign-in, renewal, retries, usage guard, Bulk 2.0."""

from .bulk import Bulk2, IngestResult, from_csv, parse_sf_error
from .errors import (
    CallRefused,
    ClientRejected,
    ConfigurationError,
    GrantRefused,
    SalesforceSessionError,
    SalesforceUnavailable,
    SalesforceUnreachable,
    UsageLimitReached,
    clean_exit,
)
from .retry import RetryPolicy, transient_reason
from .session import SalesforceSession
from .settings import connection_properties
from .token import Credentials

__all__ = [
    "Bulk2", "IngestResult", "from_csv", "parse_sf_error",
    "CallRefused", "ClientRejected", "ConfigurationError", "Credentials", "GrantRefused",
    "RetryPolicy", "SalesforceSession", "SalesforceSessionError", "SalesforceUnavailable",
    "SalesforceUnreachable", "UsageLimitReached", "clean_exit", "connection_properties",
    "transient_reason",
]
