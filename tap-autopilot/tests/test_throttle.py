"""The tap's one session paces every call through the process's token bucket."""

import pytest

from tap_autopilot.tap import TapAutopilot


def test_the_session_takes_a_token_of_the_shared_bucket_per_call():
    tap = TapAutopilot(config={"api_key": "k", "rate_limit_per_second": 5},
                       parse_env_config=False)
    limiter = tap.http_session.limiter
    assert limiter.interval == pytest.approx(1 / 4.5)  # 90 % of the documented 5
    assert TapAutopilot(config={"api_key": "k", "rate_limit_per_second": 5},
                        parse_env_config=False).http_session.limiter is limiter


def test_a_rate_of_zero_is_refused_by_name():
    tap = TapAutopilot(config={"api_key": "k", "rate_limit_per_second": 0},
                       parse_env_config=False)
    with pytest.raises(ValueError, match="rate_limit_per_second"):
        tap.http_session  # noqa: B018
