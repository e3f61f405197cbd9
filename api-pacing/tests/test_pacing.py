"""The token bucket and the progress lines, on a fake clock."""

from __future__ import annotations

import logging

import pytest

from api_pacing import Progress, TokenBucket, shared_bucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_no_one_second_window_holds_more_than_the_limit():
    clock = Clock()
    bucket = TokenBucket(5, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(50):
        bucket.wait()
        starts.append(clock.now)
    for i, t in enumerate(starts):
        assert sum(1 for s in starts[i:] if s < t + 1.0) <= 5
    assert (starts[-1] - starts[0]) == pytest.approx(49 / 4.5)  # 90 % of the limit


def test_no_burst_after_an_idle_spell():
    clock = Clock()
    bucket = TokenBucket(5, headroom=1.0, clock=clock, sleep=clock.sleep)
    bucket.wait()
    clock.now += 60  # idle
    assert bucket.wait() == 0
    assert bucket.wait() == pytest.approx(0.2)


def test_one_bucket_per_limit_in_a_process():
    assert shared_bucket(7.0) is shared_bucket(7.0)
    assert shared_bucket(7.0) is not shared_bucket(8.0)


def test_a_limit_of_zero_is_refused_by_name():
    with pytest.raises(ValueError, match="rate_limit_per_second"):
        TokenBucket(0)


def test_progress_lines_every_n_items_with_rate_and_eta(caplog):
    clock = Clock()
    progress = Progress(logging.getLogger("t"), "contacts scanned", total=1000, every_items=300,
                        every_seconds=3600, clock=clock)
    with caplog.at_level(logging.INFO, logger="t"):
        for _ in range(10):
            clock.now += 1
            progress.advance(100)
        progress.done()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "contacts scanned: 300/1,000 (30%), 100.0/s, ETA 7s"
    assert len(lines) == 4 and lines[-1] == "contacts scanned: 1,000 done in 10s"


def test_progress_every_few_seconds_without_a_total(caplog):
    clock = Clock()
    progress = Progress(logging.getLogger("t"), "contacts written", every_seconds=10,
                        clock=clock)
    with caplog.at_level(logging.INFO, logger="t"):
        for _ in range(25):
            clock.now += 1
            progress.advance(4)
    assert [r.getMessage() for r in caplog.records] == [
        "contacts written: 40, 4.0/s", "contacts written: 80, 4.0/s"]
