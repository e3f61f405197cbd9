"""Demo people changed over the past month: 7 s apart in a small org, closer in a large one, and
never in the future (a tap's bookmark past now would pass over every later edit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consent_sandbox.demo import HISTORY, changed_at

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_small_org_changed_7_seconds_apart_from_a_month_ago():
    assert changed_at(0, 200, NOW) == NOW - HISTORY
    assert changed_at(5, 200, NOW) - changed_at(4, 200, NOW) == timedelta(seconds=7)


def test_no_person_of_a_million_changed_in_the_future():
    last = changed_at(999_999, 1_000_000, NOW)
    assert NOW - timedelta(hours=2) < last < NOW
    assert changed_at(1, 1_000_000, NOW) > changed_at(0, 1_000_000, NOW)  # still in order
