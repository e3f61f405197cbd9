"""A re-sent Autopilot profile leaves out the lists its contact joined in an earlier run."""

from __future__ import annotations

from pathlib import Path

from .mapper_cli import A2S, S2A, record, run, schema


def _first_sync(tmp_path: Path, *, read_back: bool) -> None:
    """Ada has a Lead and a Contact: the first run sends both lists; Autopilot is read back."""
    first = run(S2A, [
        schema("Lead"), record("Lead", Id="00Q1", Email="ada@x.io", LastName="Lovelace",
                               Company="Engines", SystemModstamp="2026-01-01T00:00:00Z"),
        schema("Contact"), record("Contact", Id="0031", Email="ada@x.io", LastName="Lovelace",
                                  SystemModstamp="2026-01-01T00:00:00Z"),
    ], tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.by_email()["ada@x.io"]["lists"] == ["Salesforce Contacts", "Salesforce Leads"]
    if read_back:
        back = run(A2S, [schema("contacts"), record(
            "contacts", contact_id="person_1", Email="ada@x.io", unsubscribed=False,
            updated_at="2026-01-01T00:01:00Z")], tmp_path)
        assert back.returncode == 0, back.stderr


def _contact_changes(tmp_path: Path, **values: object) -> dict:
    result = run(S2A, [schema("Contact"), record(
        "Contact", Id="0031", Email="ada@x.io", LastName="Lovelace",
        SystemModstamp="2026-01-02T00:00:00Z", **values)], tmp_path)
    assert result.returncode == 0, result.stderr
    return result.by_email()["ada@x.io"]


def test_a_changed_contact_row_resends_its_profile_without_the_list_already_joined(tmp_path):
    _first_sync(tmp_path, read_back=True)
    sent = _contact_changes(tmp_path, HasOptedOutOfEmail=True, MailingCountry="UK")
    # the profile of the Contact alone differs from the last one sent, so it goes out again,
    # but the contact is in "Salesforce Contacts" since the first run: no join asked again
    assert sent == {"Email": "ada@x.io", "LastName": "Lovelace", "MailingCountry": "UK",
                    "unsubscribed": True}


def test_a_new_kind_of_record_sends_only_its_own_list(tmp_path):
    first = run(S2A, [schema("Lead"), record("Lead", Id="00Q1", Email="bo@x.io", LastName="B",
                                             Company="C")], tmp_path)
    assert first.by_email()["bo@x.io"]["lists"] == ["Salesforce Leads"]
    run(A2S, [schema("contacts"), record("contacts", contact_id="person_2", Email="bo@x.io",
                                         unsubscribed=False)], tmp_path)
    later = run(S2A, [schema("Lead"), record("Lead", Id="00Q1", Email="bo@x.io", LastName="B",
                                             Company="C2"),
                      schema("Contact"), record("Contact", Id="0032", Email="bo@x.io",
                                                LastName="B")], tmp_path)
    assert later.by_email()["bo@x.io"]["lists"] == ["Salesforce Contacts"]


def test_an_unconfirmed_profile_is_sent_again_with_its_lists(tmp_path):
    _first_sync(tmp_path, read_back=False)  # the first run's upsert may have failed
    sent = _contact_changes(tmp_path, MailingCountry="UK")
    assert sent["lists"] == ["Salesforce Contacts"]


def test_a_profile_re_sent_without_lists_keeps_them_known_joined_until_its_read_back(tmp_path):
    # a Lead change re-sends a profile without lists (the Lead's list is joined); the hooks
    # that would read it back come late, so the next run finds that profile unconfirmed
    _first_sync(tmp_path, read_back=True)
    lead = run(S2A, [schema("Lead"), record(
        "Lead", Id="00Q1", Email="ada@x.io", LastName="Lovelace", Company="Engines",
        HasOptedOutOfEmail=True, SystemModstamp="2026-01-02T00:00:00Z")], tmp_path)
    assert "lists" not in lead.by_email()["ada@x.io"]
    sent = _contact_changes(tmp_path, MailingCountry="UK")
    # no list went out since the last read back: "Salesforce Contacts" is still joined
    assert sent == {"Email": "ada@x.io", "LastName": "Lovelace", "MailingCountry": "UK",
                    "unsubscribed": True}


def test_lists_of_a_profile_held_back_are_all_sent_when_it_goes_out(tmp_path):
    # the re-subscribe to a contact no read has shown is held (R4), and so is the profile that
    # brought the new Contact's list; once sent, nothing tells that list was never joined
    first = run(S2A, [schema("Lead"), record(
        "Lead", Id="00Q1", Email="cy@x.io", LastName="C", Company="C", HasOptedOutOfEmail=True,
        SystemModstamp="2026-01-01T00:00:00Z")], tmp_path)
    assert first.by_email()["cy@x.io"]["unsubscribed"] is True
    held = run(S2A, [
        schema("Lead"), record("Lead", Id="00Q1", Email="cy@x.io", LastName="C", Company="C",
                               SystemModstamp="2026-01-03T00:00:00Z"),
        schema("Contact"), record("Contact", Id="0033", Email="cy@x.io", LastName="C",
                                  SystemModstamp="2026-01-03T00:00:00Z")], tmp_path)
    assert "cy@x.io" not in held.by_email()  # nothing goes to the held contact
    read = run(A2S, [schema("contacts"), record(
        "contacts", contact_id="person_3", Email="cy@x.io", unsubscribed=True,
        updated_at="2026-01-02T00:00:00Z")], tmp_path)  # our opt-out, older: the Lead wins
    assert read.returncode == 0, read.stderr
    sent = run(S2A, [schema("Contact"), record(
        "Contact", Id="0033", Email="cy@x.io", LastName="C2",
        SystemModstamp="2026-01-04T00:00:00Z")], tmp_path).by_email()["cy@x.io"]
    assert sent["unsubscribed"] is False and sent["LastName"] == "C2"
    assert sent["lists"] == ["Salesforce Contacts", "Salesforce Leads"]
