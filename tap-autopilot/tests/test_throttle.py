import pytest

from tap_autopilot.throttle import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_calls_are_spaced_at_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    for _ in range(6):
        limiter.wait()
    assert clock.slept == pytest.approx([0.2] * 5)
    assert clock.now == pytest.approx(101.0)


def test_idle_time_is_not_banked_as_a_burst():
    clock = FakeClock()
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    limiter.wait()
    clock.now += 10
    limiter.wait()
    limiter.wait()
    assert clock.slept == pytest.approx([0.2])


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="rate_limit_per_second"):
        RateLimiter(0)
