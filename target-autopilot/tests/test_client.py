"""The HTTP client's retry policy and rate limit, with the HTTP layer mocked (requests-mock)."""

from __future__ import annotations

import logging

import pytest
import requests

from target_autopilot import client as client_module
from target_autopilot.client import (
    AutopilotClient,
    AutopilotRejected,
    AutopilotUnavailable,
    in_path,
)

BASE = "https://autopilot.example/v1"


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Waits the client asked for, without waiting."""
    waits: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", waits.append)
    return waits


def client(**kwargs: object) -> AutopilotClient:
    return AutopilotClient(BASE, "secret-key", **{"rate_limit_per_second": 0, **kwargs})


def test_429_503_and_network_errors_are_retried_with_doubling_waits(requests_mock, sleeps):
    requests_mock.post(f"{BASE}/contacts", [
        {"status_code": 429, "json": {"error": "Too Many Requests", "message": "slow down"}},
        {"status_code": 503, "json": {"error": "Service Unavailable", "message": "later"}},
        {"exc": requests.ConnectTimeout},
        {"exc": requests.ConnectionError},
        {"status_code": 200, "json": {"contact_ids": ["person_1"]}},
    ])
    c = client(backoff_seconds=0.5)
    assert c.request("POST", "/contacts", json={"contacts": []}) == {"contact_ids": ["person_1"]}
    assert c.calls == 5
    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    assert requests_mock.last_request.headers["autopilotapikey"] == "secret-key"


def test_retry_after_is_obeyed_instead_of_the_backoff(requests_mock, sleeps):
    requests_mock.get(f"{BASE}/lists", [
        {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"message": "slow"}},
        {"status_code": 429, "headers": {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"},
         "json": {"message": "slow"}},
        {"status_code": 200, "json": {"lists": []}},
    ])
    assert client().request("GET", "/lists") == {"lists": []}
    assert sleeps == [7.0, 0.0]  # a date in the past: go now


def test_a_400_is_not_retried_and_carries_autopilots_message(requests_mock, sleeps):
    requests_mock.post(f"{BASE}/contact", status_code=400,
                       json={"error": "Bad Request", "message": "Email is not valid."})
    c = client()
    with pytest.raises(AutopilotRejected, match="Email is not valid") as caught:
        c.request("POST", "/contact", json={})
    assert caught.value.status == 400 and c.calls == 1 and sleeps == []


def test_an_accepted_status_returns_instead_of_raising(requests_mock):
    requests_mock.delete(f"{BASE}/contact/a@x.io", status_code=404,
                         json={"error": "Not Found", "message": "Contact could not be found."})
    assert client().request("DELETE", "/contact/a@x.io", ok_statuses=(404,)) is not None


def test_retries_end_with_an_error_that_says_what_to_do(requests_mock, sleeps):
    requests_mock.get(f"{BASE}/lists", status_code=500, json={"error": "x", "message": "boom"})
    with pytest.raises(AutopilotUnavailable, match="500 boom after 3 attempts"):
        client(max_retries=2).request("GET", "/lists")
    assert len(sleeps) == 2


def test_the_api_key_never_reaches_the_log(requests_mock, sleeps, caplog):
    requests_mock.get(f"{BASE}/lists", status_code=503, json={"message": "later"})
    with caplog.at_level(logging.DEBUG), pytest.raises(AutopilotUnavailable) as caught:
        client(max_retries=1).request("GET", "/lists")
    assert "secret-key" not in caplog.text and "secret-key" not in str(caught.value)


def test_every_client_of_the_process_draws_from_one_bucket_under_the_limit():
    first, second = client(rate_limit_per_second=5), client(rate_limit_per_second=5)
    assert first.limiter is second.limiter
    assert first.limiter.interval == pytest.approx(1 / 4.5)  # 90 % of the documented 5


def test_emails_become_one_path_segment():
    assert in_path("a+b/c%@x.io") == "a%2Bb%2Fc%25@x.io"
