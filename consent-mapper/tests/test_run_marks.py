from consent_mapper.run_marks import LEGACY_STREAM, STATE_RUN, STATE_STREAM, mark, written_run


def test_the_mark_rides_on_the_taps_state_and_replaces_the_legacy_one():
    tap = {"bookmarks": {"Lead": {"replication_key_value": "2026-01-01"},
                         LEGACY_STREAM: {STATE_RUN: 3}}}
    assert written_run(tap) == 3  # written by an earlier release, with the activity feed on
    marked = mark(tap, 7)
    assert marked["bookmarks"] == {"Lead": {"replication_key_value": "2026-01-01"},
                                   STATE_STREAM: {STATE_RUN: 7}}
    assert written_run(marked) == 7
    assert tap["bookmarks"][LEGACY_STREAM] == {STATE_RUN: 3}  # the input is not changed


def test_a_state_without_a_mark_knows_no_run_written():
    assert written_run(None) is None
    assert written_run({"bookmarks": {"Lead": {}}}) is None
    assert written_run({"bookmarks": {STATE_STREAM: {STATE_RUN: True}}}) is None
    assert mark({}, 1) == {"bookmarks": {STATE_STREAM: {STATE_RUN: 1}}}
