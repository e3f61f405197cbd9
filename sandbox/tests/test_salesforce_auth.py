"""Salesforce stand-in: OAuth grants, sessions, the daily allowance and injected faults."""

import pytest
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from consent_sandbox.salesforce.testing import connect, request_token, trusting_session


@pytest.fixture(autouse=True)
def clean(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")
    sandbox.admin("salesforce", "DELETE", "/faults")
    yield
    sandbox.admin("salesforce", "DELETE", "/faults")


def test_refresh_token_grant_answers_like_salesforce(sandbox):
    response = request_token(sandbox)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "instance_url", "id", "token_type", "issued_at",
                         "signature"}
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == sandbox.salesforce_url
    assert body["issued_at"].isdigit() and len(body["issued_at"]) == 13


def test_password_grant_wants_the_security_token_appended(sandbox):
    sf = sandbox.endpoints["salesforce"]
    good = request_token(sandbox, grant_type="password", username=sf["username"],
                         password=sf["password"] + sf["security_token"])
    assert good.status_code == 200
    bad = request_token(sandbox, grant_type="password", username=sf["username"],
                        password=sf["password"])
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


@pytest.mark.parametrize(("override", "error"), [
    ({"refresh_token": "nope"}, "invalid_grant"),
    ({"client_id": "nope"}, "invalid_client_id"),
    ({"client_secret": "nope"}, "invalid_client"),
    ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
])
def test_token_failures_are_400_with_an_oauth_error(sandbox, override, error):
    response = request_token(sandbox, **override)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert set(response.json()) == {"error", "error_description"}


def test_unknown_or_expired_session_is_401_invalid_session_id(sandbox):
    session = trusting_session(sandbox)
    url = f"{sandbox.salesforce_url}/services/data/v59.0/limits"
    unknown = session.get(url, headers={"Authorization": "Bearer forged"})
    assert unknown.status_code == 401
    assert unknown.json() == [{"message": "Session expired or invalid",
                               "errorCode": "INVALID_SESSION_ID"}]
    sf = connect(sandbox)
    sf.limits()
    sandbox.admin("salesforce", "POST", "/expire-sessions")
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.limits()
    assert caught.value.content == [{"message": "Session expired or invalid",
                                     "errorCode": "INVALID_SESSION_ID"}]
    assert connect(sandbox).limits()  # a new token works again


def test_every_call_carries_the_usage_header_and_limits_agree(sandbox):
    sf = connect(sandbox)
    sf.query("SELECT Id FROM Lead")
    assert sf.api_usage["api-usage"].used == 1
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert limits["DailyApiRequests"]["Remaining"] == 100_000 - 2
    assert sf.api_usage["api-usage"].used == 2
    assert sandbox.admin("salesforce", "GET", "/usage").json() == {"used": 2, "max": 100_000}


def test_exhausted_allowance_refuses_every_call_with_403(sandbox):
    sandbox.admin("salesforce", "POST", "/usage", json={"used": 100_000})
    response = trusting_session(sandbox).get(
        f"{sandbox.salesforce_url}/services/data/v59.0/query",
        params={"q": "SELECT Id FROM Lead"},
        headers={"Authorization": f"Bearer {request_token(sandbox).json()['access_token']}"})
    assert response.status_code == 403
    assert response.json() == [{"message": "TotalRequests Limit exceeded.",
                                "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert response.headers["Sforce-Limit-Info"] == "api-usage=100000/100000"
    with pytest.raises(SalesforceRefusedRequest):
        connect(sandbox).query("SELECT Id FROM Lead")


def test_versions_list_needs_no_session_and_unknown_versions_are_404(sandbox):
    session = trusting_session(sandbox)
    listed = session.get(f"{sandbox.salesforce_url}/services/data/").json()
    assert {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"} in listed
    token = request_token(sandbox).json()["access_token"]
    response = session.get(f"{sandbox.salesforce_url}/services/data/v9.0/limits",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_injected_500_is_a_salesforce_error_body_once(sandbox):
    sf = connect(sandbox)
    sandbox.admin("salesforce", "POST", "/faults", json={"status": 500, "count": 1})
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Lead")
    assert caught.value.status == 500
    assert caught.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 0
