"""The pure decisions: which record counts, merges per person, on_exit, bounces, Person Accounts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from consent_mapper.decide import (
    Action,
    Observation,
    Person,
    Skip,
    SkipReason,
    decide_person,
    observe_autopilot,
    observe_salesforce,
)
from consent_mapper.shapes import autopilot_contact, autopilot_fields, salesforce_records

LEADS, CONTACTS = "Salesforce Leads", "Salesforce Contacts"


def sf(stream: str, **record) -> Observation | Skip:
    seen = observe_salesforce(stream, record, LEADS, CONTACTS)
    if isinstance(seen, Observation) and seen.live:
        fields, custom = autopilot_fields(stream, record, {})
        seen = replace(seen, fields=fields, custom_fields=custom)
    return seen


def person_of(*observations: Observation) -> Person:
    person = Person(observations[0].email)
    for seen in observations:
        assert seen.email == person.email
        person.add(seen)
    return person


def decide(*observations: Observation, remove: bool = False):
    return decide_person(person_of(*observations), remove, "Salesforce")


# which records count


def test_lead_is_observed_with_its_opt_out_list_and_normalized_email():
    seen = sf("Lead", Id="00Q1", Email=" Ada@X.IO", HasOptedOutOfEmail=True)
    assert isinstance(seen, Observation)
    assert (seen.email, seen.opted_out, seen.live, seen.list_name) == ("ada@x.io", True, True,
                                                                       LEADS)
    assert str(seen.source) == "salesforce Lead 00Q1"


def test_null_opt_out_reads_as_opted_in():
    seen = sf("Contact", Id="0031", Email="a@x.io", HasOptedOutOfEmail=None)
    assert seen.opted_out is False and seen.list_name == CONTACTS


@pytest.mark.parametrize(("stream", "record", "reason"), [
    ("Lead", {"Id": "00Q1", "Email": "a@x.io", "IsConverted": True}, SkipReason.CONVERTED_LEAD),
    ("Contact", {"Id": "0031", "Email": "a@x.io", "IsPersonAccount": True},
     SkipReason.PERSON_ACCOUNT_CONTACT),
    ("Account", {"Id": "0011", "Name": "Acme", "IsPersonAccount": False},
     SkipReason.BUSINESS_ACCOUNT),
    ("Account", {"Id": "0012", "Name": "Acme", "PersonEmail": "x@acme.io"},
     SkipReason.BUSINESS_ACCOUNT),
    ("Lead", {"Id": "00Q2"}, SkipReason.NO_EMAIL),
    ("Lead", {"Id": "00Q3", "Email": "  "}, SkipReason.NO_EMAIL),
    ("Lead", {"Id": "00Q4", "Email": "broken@@x.io"}, SkipReason.INVALID_EMAIL),
    ("Account", {"Id": "0013", "IsPersonAccount": True, "PersonEmail": "nope"},
     SkipReason.INVALID_EMAIL),
])
def test_records_that_carry_no_person_are_skipped_with_a_reason(stream, record, reason):
    seen = observe_salesforce(stream, record, LEADS, CONTACTS)
    assert isinstance(seen, Skip)
    assert seen.reason is reason
    assert seen.source.record_id == record["Id"]


def test_invalid_email_skip_names_the_address_and_the_fault():
    seen = observe_salesforce("Lead", {"Id": "00Q4", "Email": "broken@@x.io"}, LEADS, CONTACTS)
    assert "broken@@x.io" in seen.detail and "more than one '@'" in seen.detail


def test_person_account_yields_the_person_from_person_fields_without_company():
    seen = sf("Account", Id="0011", IsPersonAccount=True, Name="Eve Example",
              PersonEmail="E@x.io", PersonHasOptedOutOfEmail=True, FirstName="Eve",
              LastName="Example", BillingCountry="France")
    assert isinstance(seen, Observation)
    assert (seen.email, seen.opted_out, seen.list_name) == ("e@x.io", True, CONTACTS)
    assert dict(seen.fields) == {"FirstName": "Eve", "LastName": "Example"}
    contact = autopilot_contact(decide(seen))
    assert "Company" not in contact and contact["unsubscribed"] is True


def test_field_map_never_puts_a_company_on_a_person_account():
    fields, custom = autopilot_fields(
        "Account", {"Name": "Eve Example", "Industry__c": "Arts"},
        {"Name": "Company", "Industry__c": "Industry"})
    assert fields == {"Industry": "Arts"} and custom == {}


def test_field_map_sends_unknown_names_to_custom_fields_and_skips_empty_values():
    fields, custom = autopilot_fields(
        "Lead", {"Company": "Engines", "Country": "Germany", "Tier__c": "Gold", "Score__c": 7,
                 "Title": None, "Empty__c": ""},
        {"Tier__c": "Customer Tier", "Score__c": "Lead Score", "Title": "Title",
         "Empty__c": "Empty"})
    assert fields == {"Company": "Engines", "MailingCountry": "Germany"}
    assert custom == {"Customer Tier": "Gold", "Lead Score": 7}


def test_contact_company_is_left_out():
    fields, _ = autopilot_fields("Contact", {"Company": "not a Contact field", "LastName": "L",
                                             "MailingCountry": "Peru"}, {})
    assert fields == {"LastName": "L", "MailingCountry": "Peru"}


# merges per person (R1, R3, R5)


def test_duplicates_in_other_case_merge_and_any_opt_out_wins():
    a = sf("Lead", Id="00Q1", Email="dana@x.io", HasOptedOutOfEmail=False)
    b = sf("Lead", Id="00Q2", Email="DANA@X.IO", HasOptedOutOfEmail=True)
    c = sf("Contact", Id="0031", Email="Dana@x.io", HasOptedOutOfEmail=False)
    decision = decide(a, b, c)
    assert decision.action is Action.UPSERT
    assert decision.opted_out is True
    assert decision.lists == (CONTACTS, LEADS)
    assert [(e.rule, e.source.record_id, e.new) for e in decision.events] == [("R3", "00Q2", True)]


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_merge_does_not_depend_on_order(order):
    records = [sf("Lead", Id="00Q1", Email="a@x.io", HasOptedOutOfEmail=True),
               sf("Contact", Id="0031", Email="a@x.io", HasOptedOutOfEmail=False)]
    decision = decide(*(records[i] for i in order))
    assert decision.opted_out is True and decision.lists == (CONTACTS, LEADS)


def test_all_opted_in_stays_opted_in_without_an_event():
    decision = decide(sf("Lead", Id="00Q1", Email="a@x.io"),
                      sf("Contact", Id="0031", Email="a@x.io"))
    assert decision.opted_out is False and decision.events == ()


def test_single_opt_out_is_explained_as_a_change_that_travels():
    decision = decide(sf("Lead", Id="00Q1", Email="a@x.io", HasOptedOutOfEmail=True))
    assert [(e.rule, e.new) for e in decision.events] == [("R2", True)]


def test_newest_record_wins_each_field_and_older_ones_fill_gaps():
    old = sf("Lead", Id="00Q1", Email="a@x.io", FirstName="Old", Company="Engines",
             SystemModstamp="2024-01-01T00:00:00.000+0000")
    new = sf("Contact", Id="0031", Email="a@x.io", FirstName="New", Phone="",
             SystemModstamp="2024-02-01T00:00:00.000+0000")
    for order in ((old, new), (new, old)):
        assert dict(decide(*order).fields) == {"FirstName": "New", "Company": "Engines"}


# deleted and deselected records (R8, on_exit)


def gone(**record):
    return sf("Lead", Id=record.pop("Id", "00Q9"), Email="g@x.io", **record)


@pytest.mark.parametrize("exit_flags", [{"IsDeleted": True}, {"in_selection": False}])
def test_exit_with_remove_deletes_the_contact(exit_flags):
    decision = decide(gone(**exit_flags), remove=True)
    assert decision.action is Action.DELETE
    assert [e.rule for e in decision.events] == ["R8"]


def test_exit_with_keep_emits_nothing_but_is_explained():
    decision = decide(gone(IsDeleted=True), remove=False)
    assert decision.action is Action.NONE
    assert [e.rule for e in decision.events] == ["R8"]
    assert "on_exit=keep" in decision.events[0].detail


def test_in_selection_missing_or_true_is_live():
    assert gone().live is True and gone(in_selection=True).live is True


def test_exit_is_not_removed_when_a_live_record_of_the_person_was_seen():
    exiting = gone(IsDeleted=True)
    live = sf("Contact", Id="0031", Email="G@x.io")
    decision = decide(exiting, live, remove=True)
    assert decision.action is Action.UPSERT
    assert decision.lists == (CONTACTS,)
    assert decision.lists_remove == (LEADS,)  # the person no longer has a Lead
    assert any(e.rule == "R8" and "live record" in e.detail for e in decision.events)


def test_keep_never_asks_to_leave_a_list():
    decision = decide(gone(IsDeleted=True), sf("Contact", Id="0031", Email="g@x.io"))
    assert decision.lists_remove == ()


def test_opt_out_of_an_exiting_record_is_never_forgotten():
    decision = decide(gone(IsDeleted=True, HasOptedOutOfEmail=True),
                      sf("Contact", Id="0031", Email="g@x.io"), remove=True)
    assert decision.opted_out is True
    out = [e for e in decision.events if e.new]
    assert [(e.rule, e.source.record_id) for e in out] == [("R8", "00Q9")]


def test_live_opt_out_is_named_before_an_exiting_one():
    decision = decide(gone(IsDeleted=True, HasOptedOutOfEmail=True),
                      sf("Contact", Id="0031", Email="g@x.io", HasOptedOutOfEmail=True))
    assert [(e.rule, e.source.record_id) for e in decision.events if e.new] == [("R2", "0031")]


def test_exiting_records_lend_no_fields_or_lists():
    decision = decide(gone(IsDeleted=True, FirstName="Ghost"),
                      sf("Contact", Id="0031", Email="g@x.io", LastName="Live"))
    assert dict(decision.fields) == {"LastName": "Live"}


# Autopilot to Salesforce: unsubscribes and bounces


@pytest.mark.parametrize(("unsubscribed", "hard_bounced", "bounce_is_opt_out", "expected"), [
    (True, False, True, True),
    (True, True, False, True),
    (False, True, True, True),
    (False, True, False, False),
    (False, False, True, False),
    (None, None, True, False),
])
def test_autopilot_opt_out_from_unsubscribe_or_hard_bounce(unsubscribed, hard_bounced,
                                                           bounce_is_opt_out, expected):
    seen = observe_autopilot({"contact_id": "person_1", "Email": "Pat@X.io",
                              "unsubscribed": unsubscribed, "hard_bounced": hard_bounced},
                             bounce_is_opt_out)
    assert (seen.email, seen.opted_out) == ("pat@x.io", expected)


def test_bounce_decision_names_the_bounce():
    seen = observe_autopilot({"contact_id": "person_1", "Email": "p@x.io",
                              "unsubscribed": False, "hard_bounced": True}, True)
    decision = decide_person(person_of(seen), False, "Autopilot")
    assert [(e.rule, e.new) for e in decision.events] == [("R2", True)]
    assert "hard bounce" in decision.events[0].detail


def test_resubscribe_is_written_as_opted_in_to_every_kind_of_record():
    seen = observe_autopilot({"contact_id": "person_1", "Email": "P@x.io",
                              "unsubscribed": False}, True)
    records = salesforce_records(decide_person(person_of(seen), False, "Autopilot"))
    assert records == [("Lead", {"Email": "p@x.io", "HasOptedOutOfEmail": False}),
                       ("Contact", {"Email": "p@x.io", "HasOptedOutOfEmail": False}),
                       ("Account", {"PersonEmail": "p@x.io", "PersonHasOptedOutOfEmail": False})]


def test_autopilot_contact_without_valid_email_is_skipped():
    seen = observe_autopilot({"contact_id": "person_2", "Email": "no-at-sign"}, True)
    assert isinstance(seen, Skip) and seen.reason is SkipReason.INVALID_EMAIL
    assert seen.source.record_id == "person_2"
