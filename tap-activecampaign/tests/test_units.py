"""Unit tests of the tap's pure parts: the list-set codec, timestamps, records, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from tap_activecampaign.records import TimestampError, contact_record, membership, parse_time
from tap_activecampaign.retry import retry_after_seconds
from tap_activecampaign.sweep import changed_ids, decode, encode


@given(st.sets(st.integers(min_value=1, max_value=2**40)))
def test_sets_survive_the_codec(ids):
    assert decode(encode(ids)) == ids


def test_the_codec_is_compact():
    assert len(encode(range(1, 100_001, 7))) < 4000  # ~14,000 ids in a few kilobytes


def test_changed_ids_are_those_that_entered_or_left_a_set():
    before = {"1:2": encode({1, 2, 3}), "1:3": encode({9})}
    assert changed_ids(before, {"1:2": {2, 3, 4}, "1:3": {9}}) == {1, 4}
    assert changed_ids(before, {"1:2": {1, 2, 3}}) == {9}  # a list that went away
    assert changed_ids(None, {"1:2": {1}}) is None


def test_times_with_the_account_offset_become_utc():
    assert parse_time("2018-09-12T17:00:00-05:00") == datetime(2018, 9, 12, 22, tzinfo=UTC)
    assert parse_time("0000-00-00 00:00:00") is None and parse_time(None) is None
    assert parse_time("2018-10-16 13:50:18") == datetime(2018, 10, 16, 13, 50, 18, tzinfo=UTC)
    with pytest.raises(TimestampError):
        parse_time("yesterday")


def test_contact_record_normalises_strings_and_zero_dates():
    record = contact_record(
        {"id": "7", "email": "a@b.example", "firstName": "", "bounced_hard": "2",
         "bounced_date": "0000-00-00", "cdate": "2020-01-01T00:00:00-06:00", "udate": None},
        [membership("10", "2", "2020-02-01T00:00:00-06:00"), membership(3, 1)],
        ["b", "a", "a"], [{"field_id": "2", "title": "X", "value": "1"}])
    assert record["first_name"] is None and record["bounced_hard"] == 2
    assert record["bounced_date"] is None
    assert record["udate"] == record["cdate"] == "2020-01-01T06:00:00+00:00"
    assert [m["list_id"] for m in record["lists"]] == ["3", "10"]
    assert record["lists"][1] == {"list_id": "10", "status": 2,
                                  "updated_at": "2020-02-01T06:00:00+00:00"}
    assert record["tags"] == ["a", "b"]


def test_retry_after_is_read_as_seconds_or_a_date():
    response = requests.Response()
    response.headers["Retry-After"] = "3"
    assert retry_after_seconds(response) == 3.0
    response.headers["Retry-After"] = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after_seconds(response, now=datetime(2015, 10, 21, 7, 27, 50,
                                                      tzinfo=UTC)) == 10.0
    assert retry_after_seconds(None) is None
