"""The activity feed through the `consent-mapper` console script: Autopilot mail events on synced
contacts become one completed Task each on the person's primary Salesforce record, keyed for
upserts, sent once written and again when no run is known to have written them."""

from __future__ import annotations

import pytest

from consent_mapper.activities import event_key, primary_records
from consent_mapper.run_marks import STATE_RUN, STATE_STREAM
from consent_mapper.settings import Settings, SettingsError

from .test_mapper_cli import A2S, S2A, record, run, schema

KEY = "Autopilot_Activity_Key__c"
ON = {**A2S, "activities": True}
EVENTS = [{"type": "received", "mail_id": "m1", "at": "2026-11-30T09:00:00.000000+00:00"},
          {"type": "opened", "mail_id": "m1", "at": "2026-11-30T10:00:00.000000+00:00"},
          {"type": "clicked", "mail_id": "m1", "at": "2026-12-01T10:00:00.000000+00:00"},
          {"type": "complained", "mail_id": "m1", "at": "2026-12-01T11:00:00.000000+00:00"}]


def contact(email: str, contact_id: str, events: list[dict] = EVENTS) -> dict:
    return record("contacts", contact_id=contact_id, Email=email, unsubscribed=False,
                  updated_at="2026-12-01T12:00:00+00:00", mail_events=events)


def tap_state(written_run: int | None = None) -> dict:
    bookmarks: dict = {"contacts": {"replication_key_value": "2026-12-01T00:00:00+00:00"}}
    if written_run is not None:
        bookmarks[STATE_STREAM] = {STATE_RUN: written_run}
    return {"type": "STATE", "value": {"bookmarks": bookmarks}}


@pytest.fixture
def synced(tmp_path):
    """Ada has a Lead and a Contact, Eve a Person Account, Ned a Lead converted into it."""
    seeded = run(S2A, [
        schema("Lead"),
        record("Lead", Id="00Q1", Email="ada@x.io", HasOptedOutOfEmail=False),
        record("Lead", Id="00Q2", Email="ned@x.io", IsConverted=True, ConvertedContactId="0039"),
        schema("Contact"),
        record("Contact", Id="0032", Email="Ada@x.io", HasOptedOutOfEmail=False),
        schema("Account"),
        record("Account", Id="0011", IsPersonAccount=True, PersonEmail="eve@x.io",
               PersonHasOptedOutOfEmail=False, PersonContactId="0038"),
    ], tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    return tmp_path


def tasks(result) -> list[dict]:
    return result.records("Task")


def test_each_event_of_the_configured_types_is_one_completed_task_on_the_primary_record(synced):
    result = run(ON, [schema("contacts"), contact("ada@x.io", "person_A"),
                      contact("eve@x.io", "person_E", EVENTS[:1]),
                      contact("nobody@x.io", "person_N"), tap_state()], synced)
    assert result.returncode == 0, result.stderr
    found = {t[KEY]: t for t in tasks(result)}
    assert sorted(found) == ["autopilot:person_A:clicked:m1", "autopilot:person_A:opened:m1",
                             "autopilot:person_A:received:m1",
                             "autopilot:person_E:received:m1"]  # complained is not a default
    opened = found["autopilot:person_A:opened:m1"]
    assert opened["WhoId"] == "0032"  # the Contact, not the Lead
    assert (opened["Subject"], opened["Status"], opened["ActivityDate"]) == (
        "Email opened: m1", "Completed", "2026-11-30")
    assert "ada@x.io" in opened["Description"]
    assert found["autopilot:person_E:received:m1"]["WhoId"] == "0038"  # PersonContactId
    [task_schema] = [m for m in result.of("SCHEMA") if m["stream"] == "Task"]
    assert task_schema["key_properties"] == [KEY]
    [out_state] = result.of("STATE")
    assert STATE_RUN in out_state["value"]["bookmarks"][STATE_STREAM]
    assert "without_salesforce_record=3" in result.stderr  # nobody@x.io has none


def test_a_run_after_a_written_one_sends_nothing_and_a_replay_sends_the_same_keys(synced):
    first = run(ON, [schema("contacts"), contact("ada@x.io", "person_A"), tap_state()], synced)
    written = first.of("STATE")[0]["value"]["bookmarks"][STATE_STREAM][STATE_RUN]
    again = run(ON, [schema("contacts"), contact("ada@x.io", "person_A"),
                     tap_state(written)], synced)
    assert tasks(again) == []
    assert "already_written=3" in again.stderr
    # the target never wrote the first run (its state was not stored): the same Tasks again
    replay = run(ON, [schema("contacts"), contact("ada@x.io", "person_A"), tap_state()], synced)
    assert sorted(t[KEY] for t in tasks(replay)) == sorted(t[KEY] for t in tasks(first))
    newer = EVENTS + [{"type": "unsubscribed", "mail_id": "m2", "at": None}]
    later = run(ON, [schema("contacts"), contact("ada@x.io", "person_A", newer),
                     tap_state(written + 10)], synced)
    [task] = tasks(later)
    assert task[KEY] == "autopilot:person_A:unsubscribed:m2" and "ActivityDate" not in task


def test_off_by_default_and_types_are_a_setting(synced):
    off = run(A2S, [schema("contacts"), contact("ada@x.io", "person_A"), tap_state()], synced)
    assert tasks(off) == [] and all(m["stream"] != "Task" for m in off.of("SCHEMA"))
    only = run({**ON, "activity_types": ["complained"], "activity_key_field": "Key__c"},
               [schema("contacts"), contact("ada@x.io", "person_A"), tap_state()], synced)
    assert [(t["Key__c"], t["Subject"]) for t in tasks(only)] == [
        ("autopilot:person_A:complained:m1", "Email marked as spam: m1")]


def test_a_dry_run_sends_no_task_and_remembers_nothing(synced):
    dry = run({**ON, "dry_run": True}, [schema("contacts"), contact("ada@x.io", "person_A"),
                                        tap_state()], synced)
    assert tasks(dry) == [] and "would send Task" in dry.stderr
    real = run(ON, [schema("contacts"), contact("ada@x.io", "person_A"), tap_state(10**6)],
               synced)
    assert len(tasks(real)) == 3


def test_a_long_key_is_hashed_to_fit_a_text_255_field():
    assert event_key("person_1", "opened", "m1") == "autopilot:person_1:opened:m1"
    long = event_key("person_1", "opened", "m" * 300)
    assert len(long) <= 255 and long == event_key("person_1", "opened", "m" * 300)
    assert long != event_key("person_1", "clicked", "m" * 300)


def test_bad_activity_settings_are_refused_by_name():
    with pytest.raises(SettingsError, match="activity_types.*forwarded"):
        Settings.from_config({**ON, "activity_types": ["opened", "forwarded"]})
    with pytest.raises(SettingsError, match="activity_key_field"):
        Settings.from_config({**ON, "activity_key_field": "Key; DROP"})


def test_a_converted_lead_gives_way_to_the_contact_it_became(synced):
    from consent_mapper.ledger.store import Ledger

    ledger = Ledger(f"sqlite:///{synced / 'ledger.db'}")
    with ledger.transaction(commit=False) as tx:
        assert primary_records(tx, ["ada@x.io", "eve@x.io", "ned@x.io"]) == {
            "ada@x.io": "0032", "eve@x.io": "0038", "ned@x.io": "0039"}
    ledger.close()
