from datetime import UTC, datetime

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_autopilot.retry import MAX_WAIT_SECONDS, retry_after_seconds, wait_generator


def refused(status: int, retry_after: str | None = None) -> RetriableAPIError:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return RetriableAPIError("refused", response)


def test_retry_after_in_seconds_and_as_a_date():
    now = datetime(2024, 3, 5, 14, 7, 0, tzinfo=UTC)
    assert retry_after_seconds(refused(429, "3").response) == 3
    assert retry_after_seconds(refused(429, "Tue, 05 Mar 2024 14:07:09 GMT").response, now) == 9
    assert retry_after_seconds(refused(429, "3600").response) == MAX_WAIT_SECONDS
    assert retry_after_seconds(refused(429, "soon").response) is None
    assert retry_after_seconds(refused(429).response) is None


def test_waits_follow_retry_after_else_grow_exponentially():
    waits = wait_generator()
    waits.send(None)  # how `backoff` primes a wait generator
    assert waits.send(refused(503)) == 0.5
    assert waits.send(refused(429, "2")) == 2
    assert waits.send(refused(503)) == 2.0
    assert waits.send(ConnectionResetError()) == 4.0
