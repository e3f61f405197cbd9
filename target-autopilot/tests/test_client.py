"""The HTTP client's retry policy, with the HTTP layer mocked (requests-mock)."""

from __future__ import annotations

import pytest

from target_autopilot.client import AutopilotClient, AutopilotRejected, AutopilotUnavailable

BASE = "https://autopilot.example/v1"


def client(**kwargs: object) -> AutopilotClient:
    return AutopilotClient(BASE, "secret-key", rate_limit_per_second=1000,
                           backoff_seconds=0.001, **kwargs)


def test_429_and_503_are_retried_then_the_answer_returned(requests_mock):
    requests_mock.post(f"{BASE}/contacts", [
        {"status_code": 429, "json": {"error": "Too Many Requests", "message": "slow down"}},
        {"status_code": 503, "json": {"error": "Service Unavailable", "message": "later"}},
        {"status_code": 200, "json": {"contact_ids": ["person_1"]}},
    ])
    c = client()
    assert c.request("POST", "/contacts", json={"contacts": []}) == {"contact_ids": ["person_1"]}
    assert c.calls == 3
    assert requests_mock.last_request.headers["autopilotapikey"] == "secret-key"


def test_a_400_is_not_retried_and_carries_autopilots_message(requests_mock):
    requests_mock.post(f"{BASE}/contact", status_code=400,
                       json={"error": "Bad Request", "message": "Email is not valid."})
    c = client()
    with pytest.raises(AutopilotRejected, match="Email is not valid"):
        c.request("POST", "/contact", json={})
    assert c.calls == 1


def test_retries_end_with_an_error_that_says_what_to_do(requests_mock):
    requests_mock.get(f"{BASE}/lists", status_code=500, json={"error": "x", "message": "boom"})
    with pytest.raises(AutopilotUnavailable, match="after 3 attempts"):
        client(max_retries=2).request("GET", "/lists")
