"""ledger_url is checked when the mapper starts, before any message: a URL that cannot work
stops it naming the setting, and a new ledger under a tap that has run before stops it too."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from singer_sdk.exceptions import ConfigValidationError

from consent_mapper.mapper import ConsentMapper

S2A = {"direction": "salesforce_to_autopilot"}
EARLIER_RUN = {"bookmarks": {"Lead": {"replication_key": "SystemModstamp",
                                      "replication_key_value": "2026-01-01T00:00:00Z"}}}


def start(ledger_url: str) -> ConsentMapper:
    return ConsentMapper(config={**S2A, "ledger_url": ledger_url})


def refusal(ledger_url: str) -> str:
    with pytest.raises(ConfigValidationError) as caught:
        start(ledger_url)
    [error] = caught.value.errors
    assert error.startswith("ledger_url")
    return error


def lead(n: int) -> dict:
    return {"type": "RECORD", "stream": "Lead",
            "record": {"Id": f"00Q{n}", "Email": f"p{n}@x.io", "HasOptedOutOfEmail": False}}


def one_run(mapper: ConsentMapper, state: dict | None) -> None:
    mapper.write_message = lambda message: None  # type: ignore[method-assign]
    if state is not None:
        list(mapper.map_state_message({"type": "STATE", "value": state}))
    list(mapper.map_record_message(lead(1)))
    mapper.process_endofpipe()


def test_an_unparseable_url_names_the_setting() -> None:
    assert "is not a database URL: use sqlite:////" in refusal("consent-ledger.db")


def test_a_missing_driver_names_the_extra() -> None:
    error = refusal("postgresql+pg8000://mapper:s3cret@db.example/ledger")
    assert "driver (pg8000) is not installed" in error and "[postgresql]" in error
    assert "s3cret" not in error


def test_an_in_memory_ledger_would_forget_everything() -> None:
    assert "in-memory SQLite database" in refusal("sqlite://")


def test_a_path_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    assert "is a file, not a folder" in refusal(f"sqlite:///{tmp_path / 'a-file' / 'l.db'}")


def test_a_folder_that_cannot_be_created() -> None:
    assert "its folder cannot be created or written" in refusal(
        "sqlite:////proc/no-such-folder/consent-ledger.db")


def test_a_ledger_that_is_no_database(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database, just notes\n" * 100)
    assert "the ledger cannot be opened" in refusal(f"sqlite:///{tmp_path / 'notes.db'}")


def test_a_first_run_says_it_creates_the_ledger(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        one_run(start(f"sqlite:///{tmp_path / 'ledger.db'}"), state=None)
    assert "is new: this first run creates it" in caplog.text


def test_a_new_ledger_under_a_tap_that_ran_before_stops_before_any_record(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    one_run(start(url), state=None)  # the project's first run
    one_run(start(url), state=EARLIER_RUN)  # the same ledger: fine
    typo = start(f"sqlite:///{tmp_path / 'ledgr.db'}")
    with pytest.raises(ConfigValidationError) as caught:
        list(typo.map_state_message({"type": "STATE", "value": EARLIER_RUN}))
    [error] = caught.value.errors
    assert "names a new, empty consent ledger, but the tap's state shows" in error
    assert "--full-refresh" in error
    assert not (tmp_path / "ledgr.db").exists()  # nothing was created at the wrong place


def test_a_first_run_that_read_nothing_sends_its_own_state_after_the_schema(
        tmp_path: Path) -> None:
    # a tap given no state sends none first: its first STATE, after the SCHEMA, is this run's
    mapper = start(f"sqlite:///{tmp_path / 'ledger.db'}")
    mapper.write_message = lambda message: None  # type: ignore[method-assign]
    list(mapper.map_schema_message({"type": "SCHEMA", "stream": "contacts", "schema": {},
                                    "key_properties": []}))
    list(mapper.map_state_message({"type": "STATE", "value": EARLIER_RUN}))
    mapper.process_endofpipe()
    assert (tmp_path / "ledger.db").exists()


@pytest.mark.parametrize(("state", "ran_before"), [
    (EARLIER_RUN, True),
    ({"bookmarks": {"Lead": {"progress_markers": {"x": 1}}}}, False),
    ({"bookmarks": {}}, False),
    ({}, False),
    ({"autopilot": None}, False),  # a tap with its own state shape, nothing kept yet
    ({"autopilot": "2026-01-01T00:00:00Z"}, True),
])
def test_what_counts_as_an_earlier_run(state: dict, ran_before: bool) -> None:
    from consent_mapper.ledger_url import has_bookmarks

    assert has_bookmarks(state) is ran_before
