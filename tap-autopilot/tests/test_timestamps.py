from datetime import UTC, datetime

import pytest

from tap_autopilot.timestamps import TimestampError, format_timestamp, parse_timestamp

MOMENT = datetime(2024, 3, 5, 14, 7, 9, 123000, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    "2024-03-05T14:07:09.123Z",
    "2024-03-05T14:07:09.123+00:00",
    "2024-03-05T16:07:09.123+02:00",
    "2024-03-05T14:07:09.123",
    1709647629123,
    "1709647629123",
    1709647629123.0,
])
def test_iso_and_epoch_milliseconds_parse_to_the_same_utc_moment(value):
    assert parse_timestamp(value) == MOMENT


@pytest.mark.parametrize("value", [
    "Tue, 05 Mar 2024 14:07:09 GMT",
    "Tue, 05 Mar 2024 14:07:09 +0000",
    "Tue, 05 Mar 2024 15:07:09 +0100",
])
def test_rfc_1123_parses_to_utc(value):
    assert parse_timestamp(value) == MOMENT.replace(microsecond=0)


@pytest.mark.parametrize("value", ["", "yesterday", None, True, [], {"a": 1}])
def test_anything_else_is_a_clear_error(value):
    with pytest.raises(TimestampError, match="not a timestamp"):
        parse_timestamp(value)


def test_formatted_timestamps_are_utc_and_sort_as_strings():
    early = format_timestamp(datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC))
    late = format_timestamp(parse_timestamp("2024-03-05T16:07:09.5+02:00"))
    assert early == "2024-03-05T14:07:09.000000+00:00"
    assert late == "2024-03-05T14:07:09.500000+00:00"
    assert early < late
