"""The session's one behaviour, call by call, against mocked HTTP answers."""

from __future__ import annotations

import logging

import pytest
import requests

from consentsync_salesforce import (
    CallRefused,
    ClientRejected,
    GrantRefused,
    SalesforceSession,
    SalesforceUnavailable,
    UsageLimitReached,
)

LOGIN = "https://login.example.com"
ORG = "https://org.example.com"
TOKEN = f"{LOGIN}/services/oauth2/token"
DATA = f"{ORG}/services/data/v62.0"
SECRETS = {"client_secret": "s3cret-value", "refresh_token": "refresh-value"}
CONFIG = {"login_url": LOGIN, "client_id": "consumer-key", **SECRETS, "max_retries": 3}
GRANTED = {"json": {"access_token": "token-1", "instance_url": ORG}}
LIMIT = {"Sforce-Limit-Info": "api-usage=10/100000"}


def error(code: str, message: str = "m") -> list[dict]:
    return [{"errorCode": code, "message": message}]


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def session(waits) -> SalesforceSession:
    return SalesforceSession(CONFIG, logging.getLogger("test"), sleep=waits.append)


def describe_answer() -> dict:
    return {"json": {"fields": [{"name": "Id", "type": "id"}]}, "headers": LIMIT}


@pytest.mark.parametrize("fault", [
    {"status_code": 500, "json": error("UNKNOWN_EXCEPTION")},
    {"status_code": 503, "json": error("SERVER_UNAVAILABLE")},
    {"status_code": 400, "json": error("UNABLE_TO_LOCK_ROW")},
    {"exc": requests.ConnectionError("reset by peer")},
    {"exc": requests.ReadTimeout("read timed out")},
])
def test_a_passing_failure_of_a_call_is_retried(requests_mock, session, waits, fault):
    requests_mock.post(TOKEN, **GRANTED)
    requests_mock.get(f"{DATA}/sobjects/Lead/describe", [fault, describe_answer()])
    assert session.describe("Lead")["fields"][0]["name"] == "Id"
    assert len(waits) == 1


def test_429_waits_its_retry_after(requests_mock, session, waits):
    requests_mock.post(TOKEN, **GRANTED)
    requests_mock.get(f"{DATA}/limits", [
        {"status_code": 429, "json": error("REQUEST_LIMIT_EXCEEDED"),
         "headers": {"Retry-After": "7"}},
        {"json": {"DailyApiRequests": {"Max": 100, "Remaining": 40}}}])
    session.limits()
    assert waits[0] >= 7 and session.usage_text() == "API usage 60/100 (60.0%)"


def test_every_call_has_a_timeout(requests_mock, session):
    requests_mock.post(TOKEN, **GRANTED)
    requests_mock.get(f"{DATA}/sobjects/Lead/describe", **describe_answer())
    session.describe("Lead")
    assert all(r.timeout == (15, 120) for r in requests_mock.request_history)


def test_token_server_failures_are_retried_then_said_to_be_passing(requests_mock, session,
                                                                   waits):
    requests_mock.post(TOKEN, [{"status_code": 503, "json": error("SERVER_UNAVAILABLE")},
                               {"status_code": 500, "text": "oops"}, GRANTED])
    requests_mock.get(f"{DATA}/sobjects/Lead/describe", **describe_answer())
    assert session.describe("Lead") is not None and len(waits) == 2

    failing = SalesforceSession(CONFIG, logging.getLogger("test"), sleep=lambda _: None)
    requests_mock.post(TOKEN, status_code=503, json=error("SERVER_UNAVAILABLE"))
    with pytest.raises(SalesforceUnavailable) as failure:
        failing.describe("Lead")
    message = str(failure.value)
    assert "sign-in failed 4 times" in message and "HTTP 503" in message
    assert "passing failure" in message and "Renew" not in message


def test_a_refused_grant_says_to_renew_the_connection(requests_mock, session):
    requests_mock.post(TOKEN, status_code=400,
                       json={"error": "invalid_grant", "error_description": "expired token"})
    with pytest.raises(GrantRefused) as failure:
        session.describe("Lead")
    message = str(failure.value)
    assert "invalid_grant: expired token" in message
    assert "Renew the Salesforce connection" in message
    assert requests_mock.call_count == 1  # not retried
    assert not any(secret in message for secret in SECRETS.values())


@pytest.mark.parametrize("code", ["invalid_client_id", "invalid_client"])
def test_a_wrong_client_id_or_secret_says_to_check_the_connected_app(requests_mock, session,
                                                                    code):
    requests_mock.post(TOKEN, status_code=400, json={"error": code, "error_description": "no"})
    with pytest.raises(ClientRejected) as failure:
        session.describe("Lead")
    message = str(failure.value)
    assert code in message and "Consumer Key" in message and "Consumer Secret" in message
    assert "Renew" not in message


def test_an_expired_session_mid_paging_is_renewed_once(requests_mock, session):
    requests_mock.post(TOKEN, [GRANTED, {"json": {"access_token": "token-2",
                                                  "instance_url": ORG}}])
    requests_mock.get(f"{DATA}/queryAll/", json={"done": False, "records": [{"Id": "1"}],
                                                 "nextRecordsUrl": "/services/data/v62.0/"
                                                                   "queryAll/01g-2000"})
    requests_mock.get(f"{DATA}/queryAll/01g-2000", [
        {"status_code": 401, "json": error("INVALID_SESSION_ID")},
        {"json": {"done": True, "records": [{"Id": "2"}]}}])
    rows = [r["Id"] for page in session.query_pages("SELECT Id FROM Lead", include_deleted=True)
            for r in page["records"]]
    assert rows == ["1", "2"]
    assert requests_mock.request_history[-1].headers["Authorization"] == "Bearer token-2"


def test_a_session_refused_after_renewal_stops_with_the_fix(requests_mock, session):
    requests_mock.post(TOKEN, **GRANTED)
    requests_mock.get(f"{DATA}/sobjects/Lead/describe", status_code=401,
                      json=error("INVALID_SESSION_ID"))
    with pytest.raises(GrantRefused, match="freshly renewed"):
        session.describe("Lead")
    assert [r.method for r in requests_mock.request_history] == ["POST", "GET", "POST", "GET"]


def test_a_refused_renewal_names_the_renewal(requests_mock, session):
    requests_mock.post(TOKEN, [GRANTED, {"status_code": 400, "json": {
        "error": "invalid_grant", "error_description": "expired access/refresh token"}}])
    requests_mock.get(f"{DATA}/sobjects/Lead/describe", status_code=401,
                      json=error("INVALID_SESSION_ID"))
    with pytest.raises(GrantRefused, match="could not be renewed: .*invalid_grant"):
        session.describe("Lead")


def test_the_usage_guard_stops_before_the_call(requests_mock, session):
    requests_mock.post(TOKEN, **GRANTED)
    requests_mock.get(f"{DATA}/sobjects/Lead/describe",
                      json={"fields": []}, headers={"Sforce-Limit-Info": "api-usage=90/100"})
    session.describe("Lead")
    with pytest.raises(UsageLimitReached) as failure:
        session.describe("Contact")
    assert "max_api_usage_percent=90 (describe of Contact not sent)" in str(failure.value)
    assert "used 90 of 100" in str(failure.value)
    assert requests_mock.call_count == 2


def test_salesforce_out_of_requests_is_one_clear_message_not_retried(requests_mock, session):
    requests_mock.post(TOKEN, **GRANTED)
    requests_mock.get(f"{DATA}/sobjects/Lead/describe", status_code=403,
                      json=error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
    with pytest.raises(UsageLimitReached, match="used up its 24-hour API allowance"):
        session.describe("Lead")
    assert requests_mock.call_count == 2


def test_a_lasting_error_is_not_retried_and_names_the_call(requests_mock, session, waits):
    requests_mock.post(TOKEN, **GRANTED)
    requests_mock.get(f"{DATA}/query/", status_code=400,
                      json=error("MALFORMED_QUERY", "unexpected token"))
    with pytest.raises(CallRefused, match="refused query: MALFORMED_QUERY: unexpected token"):
        session.query("SELECT")
    assert waits == []


def test_an_unknown_object_describes_as_none(requests_mock, session):
    requests_mock.post(TOKEN, **GRANTED)
    requests_mock.get(f"{DATA}/sobjects/Leads/describe", status_code=404,
                      json=error("NOT_FOUND"))
    assert session.describe("Leads") is None


def test_retries_run_out_with_the_reason_and_no_secret_in_any_log(requests_mock, waits, caplog):
    caplog.set_level(logging.DEBUG)
    session = SalesforceSession(CONFIG, logging.getLogger("test"), sleep=waits.append)
    requests_mock.post(TOKEN, **GRANTED)
    requests_mock.patch(f"{DATA}/composite/sobjects", status_code=503,
                        json=error("SERVER_UNAVAILABLE"))
    with pytest.raises(SalesforceUnavailable) as failure:
        session.restful("update (sObject Collections)", "composite/sobjects", "PATCH",
                        json={"records": []})
    assert "update (sObject Collections) failed 4 times (HTTP 503 SERVER_UNAVAILABLE)" in str(
        failure.value)
    assert len(waits) == 3 and "retry 3 of 3" in caplog.text
    assert not any(s in caplog.text + str(failure.value) for s in [*SECRETS.values(), "token-1"])
