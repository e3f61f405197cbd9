"""Which failures are retried, and how long the waits are."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from consentsync_salesforce import ConfigurationError, Credentials, RetryPolicy, transient_reason
from consentsync_salesforce.retry import parse_retry_after


def test_backoff_doubles_is_capped_and_jittered_into_its_upper_half():
    policy = RetryPolicy(max_retries=9, base_delay=1.0, max_delay=8.0)
    assert [policy.delay(n, rng=lambda: 1.0) for n in range(5)] == [1, 2, 4, 8, 8]
    assert [policy.delay(n, rng=lambda: 0.0) for n in range(3)] == [0.5, 1, 2]


def test_retry_after_is_waited_at_least():
    policy = RetryPolicy(base_delay=1.0)
    assert policy.delay(0, retry_after=7, rng=lambda: 1.0) == 7
    assert policy.delay(0, retry_after=10_000, rng=lambda: 1.0) == 900  # waited out next run


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2026, 1, 1, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Thu, 01 Jan 2026 10:00:12 GMT", now=now) == 12
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


def test_passing_failures_and_lasting_ones():
    lock = [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"}]
    assert transient_reason(SalesforceGeneralError("u", 503, "x", b""))
    assert transient_reason(SalesforceGeneralError("u", 429, "x", b""))
    assert transient_reason(SalesforceMalformedRequest("u", 400, "x", lock))
    assert transient_reason(requests.ConnectionError())
    assert transient_reason(requests.Timeout())
    assert not transient_reason(requests.exceptions.SSLError())
    assert not transient_reason(SalesforceMalformedRequest(
        "u", 400, "x", [{"errorCode": "MALFORMED_QUERY", "message": "bad"}]))
    assert not transient_reason(SalesforceRefusedRequest(
        "u", 403, "x", [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "limit"}]))


def test_password_grant_appends_the_security_token_and_hides_secrets():
    creds = Credentials.from_config({"client_id": "id", "client_secret": "s3cret",
                                     "username": "u@x.io", "password": "pw",
                                     "security_token": "TOK"})
    assert creds.grant_type == "password" and creds.form()["password"] == "pwTOK"
    assert "s3cret" not in repr(creds) and "pwTOK" not in repr(creds)


def test_missing_credentials_are_named():
    with pytest.raises(ConfigurationError, match="refresh_token"):
        Credentials.from_config({"client_id": "id", "client_secret": "s"})


def test_upload_csv_nulls_empties_and_leaves_unsent_fields_alone():
    from consentsync_salesforce.bulk import read_csv, write_csv

    text = write_csv([{"Id": "1", "Phone": None, "Title": ""},
                      {"Id": "2", "HasOptedOutOfEmail": True, "Note": 'a "quoted",\nline'}])
    assert text.splitlines()[0] == "Id,Phone,Title,HasOptedOutOfEmail,Note"
    rows = read_csv(text)
    assert rows[0] == {"Id": "1", "Phone": "#N/A", "Title": "#N/A", "HasOptedOutOfEmail": "",
                       "Note": ""}
    assert rows[1]["HasOptedOutOfEmail"] == "true" and rows[1]["Note"] == 'a "quoted",\nline'


def test_sf_error_reads_code_message_and_fields():
    from consentsync_salesforce import parse_sf_error

    assert parse_sf_error("INVALID_EMAIL_ADDRESS:Email: invalid email address: x:Email --") == {
        "statusCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address: x",
        "fields": ["Email"]}
    assert parse_sf_error("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access:--")[
        "fields"] == []
