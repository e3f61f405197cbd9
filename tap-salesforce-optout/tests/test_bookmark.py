"""Where the next read starts, from STATE of bounded size."""

from __future__ import annotations

import json

from tap_salesforce_optout.bookmark import MAX_REMEMBERED, advance, already_emitted, where


def row(i: int, stamp: str = "2026-01-01T10:00:00.500+0000") -> dict:
    return {"Id": f"00Q{i:015d}", "SystemModstamp": stamp}


def test_first_read_is_everything_and_start_date_starts_at_its_second():
    assert where({}, None) == ("", {})
    assert where({}, "2026-01-01T10:00:00.700+00:00")[0] == (
        " WHERE SystemModstamp >= 2026-01-01T10:00:00Z")


def test_a_few_rows_in_the_bookmarks_second_are_remembered_and_skipped():
    state: dict = {}
    for i in range(3):
        advance(state, row(i), emitted=True)
    clause, seen = where(state, "2026-01-01T10:00:00.500+00:00")
    assert clause == " WHERE SystemModstamp >= 2026-01-01T10:00:00Z"
    assert already_emitted(seen, row(1))
    assert not already_emitted(seen, row(1, "2026-01-01T10:00:00.900+0000"))  # changed again
    assert not already_emitted(seen, row(7, "2026-01-01T10:00:00.100+0000"))  # committed late


def test_a_mass_update_pages_on_by_position_with_state_of_bounded_size():
    state: dict = {}
    for i in range(10_000):
        advance(state, row(i), emitted=True)
    clause, seen = where(state, "2026-01-01T10:00:00.500+00:00")
    assert seen == {}
    assert clause == (" WHERE (SystemModstamp > 2026-01-01T10:00:00.500Z OR (SystemModstamp = "
                      "2026-01-01T10:00:00.500Z AND Id > '00Q000000000009999'))")
    assert len(json.dumps(state)) < 200


def test_remembered_rows_stay_under_10_kb_for_three_streams():
    state: dict = {}
    for i in range(MAX_REMEMBERED):
        advance(state, row(10**14 + i), emitted=True)
    assert 3 * len(json.dumps(state)) < 10_000
    assert where(state, None)[1]  # still remembered at the bound


def test_the_position_never_moves_back_for_a_late_row():
    state: dict = {}
    advance(state, row(5), emitted=True)
    advance(state, row(9, "2026-01-01T10:00:00.100+0000"), emitted=True)
    assert state["position"] == ["2026-01-01T10:00:00.500+00:00", "00Q000000000000005"]
    assert set(state["rows_in_bookmark_second"]) == {"00Q000000000000005",
                                                     "00Q000000000000009"}


def test_state_of_the_previous_version_is_read():
    old = {"bookmark_second": "2026-01-01T10:00:00.000+00:00",
           "rows_in_bookmark_second": {"00Q1": "2026-01-01T10:00:00.500+00:00"}}
    clause, seen = where(old, "2026-01-01T10:00:00.500+00:00")
    assert clause == " WHERE SystemModstamp >= 2026-01-01T10:00:00Z" and seen == {"00Q1": 500}
