"""The connection settings both plugins take, described once (singer-sdk JSON schema)."""

from __future__ import annotations

from singer_sdk import typing as th

from .session import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_API_USAGE_PERCENT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_REQUEST_TIMEOUT_SECONDS,
    DEFAULT_RETRY_BACKOFF_SECONDS,
)
from .token import DEFAULT_LOGIN_URL


def connection_properties() -> list[th.Property]:
    return [
        th.Property("instance_url", th.StringType,
                    description="Org URL (https://acme.my.salesforce.com); the token answer's "
                                "instance_url wins when present."),
        th.Property("login_url", th.StringType, default=DEFAULT_LOGIN_URL,
                    description="Where tokens come from: https://login.salesforce.com, "
                                "https://test.salesforce.com for sandboxes, or the My Domain "
                                "URL."),
        th.Property("client_id", th.StringType,
                    description="Consumer Key of the connected app."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="Consumer Secret of the connected app."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token; the refresh_token grant is used when set."),
        th.Property("username", th.StringType,
                    description="Integration user, for the password grant (when no "
                                "refresh_token)."),
        th.Property("password", th.StringType, secret=True,
                    description="Password of the integration user (password grant)."),
        th.Property("security_token", th.StringType, secret=True,
                    description="Security token of the integration user, appended to the "
                                "password (password grant)."),
        th.Property("api_version", th.StringType, default=DEFAULT_API_VERSION,
                    description="REST API version, e.g. 62.0."),
        th.Property("ca_bundle", th.StringType,
                    description="PEM file of certificate authorities to trust instead of the "
                                "system ones (TLS is always verified)."),
        th.Property("max_api_usage_percent", th.IntegerType(minimum=1, maximum=100),
                    default=DEFAULT_MAX_API_USAGE_PERCENT,
                    description="Stop, with nothing bookmarked past what was handled, before "
                                "the org's 24-hour API usage (Sforce-Limit-Info) passes this "
                                "share of its allowance."),
        th.Property("max_retries", th.IntegerType(minimum=0), default=DEFAULT_MAX_RETRIES,
                    description="Retries of a call that failed for a passing reason (5xx, 429, "
                                "UNABLE_TO_LOCK_ROW, timeout, dropped connection), and of "
                                "records refused with UNABLE_TO_LOCK_ROW."),
        th.Property("retry_backoff_seconds", th.NumberType, default=DEFAULT_RETRY_BACKOFF_SECONDS,
                    description="First retry delay; doubles each retry (at most 60 s), with "
                                "jitter; a 429's Retry-After is waited at least."),
        th.Property("request_timeout_seconds", th.IntegerType(minimum=1),
                    default=DEFAULT_REQUEST_TIMEOUT_SECONDS,
                    description="How long one call may wait for Salesforce's answer before it "
                                "is given up and retried."),
    ]
