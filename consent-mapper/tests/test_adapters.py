"""How Salesforce rows and Autopilot contacts become observations, profiles and records."""

from __future__ import annotations

import pytest

from consent_mapper import rules
from consent_mapper.adapters import autopilot, salesforce
from consent_mapper.profile import Profile
from consent_mapper.rules import (
    BY_EMAIL,
    CRM,
    Observation,
    RecordKey,
    RecordMemory,
    Skip,
    SkipReason,
    Write,
)

LEADS, CONTACTS = "Salesforce Leads", "Salesforce Contacts"


def ctx(bounce_is_opt_out: bool = True) -> rules.Context:
    return rules.Context(source="platform", platform="autopilot", now="2026-03-01T00:00:00.000Z",
                         reads=0, crm_read=True, bounce_is_opt_out=bounce_is_opt_out)


# Salesforce rows


def test_lead_is_observed_with_its_opt_out_and_normalized_email():
    seen = salesforce.observe("Lead", {"Id": "00Q1", "Email": " Ada@X.IO",
                                       "HasOptedOutOfEmail": True,
                                       "SystemModstamp": "2026-03-01T10:00:00.000+0000"})
    assert isinstance(seen, Observation)
    assert (seen.email, seen.opted_out, seen.live, seen.selected, seen.writable) == (
        "ada@x.io", True, True, True, True)
    assert str(seen.key) == "salesforce Lead 00Q1"
    assert seen.changed_at == "2026-03-01T10:00:00.000+00:00"
    assert seen.why == "HasOptedOutOfEmail"


def test_null_opt_out_reads_as_opted_in():
    seen = salesforce.observe("Contact", {"Id": "0031", "Email": "a@x.io",
                                          "HasOptedOutOfEmail": None})
    assert isinstance(seen, Observation) and seen.opted_out is False


@pytest.mark.parametrize(("record", "live", "selected"), [
    ({"IsDeleted": True}, False, True),
    ({"in_selection": False}, True, False),
    ({"in_selection": True}, True, True),
    ({}, True, True),  # a tap that knows no selection sends no `in_selection`
])
def test_deleted_and_deselected_rows_are_observed_as_such(record, live, selected):
    seen = salesforce.observe("Lead", {"Id": "00Q9", "Email": "g@x.io", **record})
    assert (seen.live, seen.selected) == (live, selected)


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
def test_rows_that_carry_no_person_are_skipped_with_a_reason(stream, record, reason):
    seen = salesforce.observe(stream, record)
    assert isinstance(seen, Skip)
    assert seen.reason is reason
    assert seen.source.record_id == record["Id"]


def test_invalid_email_skip_names_the_address_and_the_fault():
    seen = salesforce.observe("Lead", {"Id": "00Q4", "Email": "broken@@x.io"})
    assert "broken@@x.io" in seen.detail and "more than one '@'" in seen.detail


def test_person_account_is_the_person_from_its_person_fields():
    seen = salesforce.observe("Account", {"Id": "0011", "IsPersonAccount": True,
                                          "Name": "Eve Example", "PersonEmail": "E@x.io",
                                          "PersonHasOptedOutOfEmail": True})
    assert isinstance(seen, Observation)
    assert (seen.email, seen.opted_out, seen.key.object) == ("e@x.io", True, "Account")
    assert seen.why == "PersonHasOptedOutOfEmail"


def test_converted_lead_counts_for_the_contact_it_became_and_is_read_only():
    row = {"Id": "00Q5", "Email": "C@x.io", "IsConverted": True, "ConvertedContactId": "0035",
           "HasOptedOutOfEmail": True}
    conversion = salesforce.conversion(row)
    assert conversion is not None
    assert conversion.contact == RecordKey(CRM, "salesforce", "Contact", "0035")
    assert conversion.email == "c@x.io"
    assert (conversion.lead.opted_out, conversion.lead.writable) == (True, False)
    assert salesforce.conversion({"Id": "00Q6", "Email": "d@x.io"}) is None


def test_new_contacts_are_spelt_as_salesforce_spells_the_address_lower_cased():
    assert salesforce.spelling("Lead", {"Email": " Ada@X.io "}) == "ada@x.io"
    assert salesforce.spelling("Account", {"PersonEmail": "Bo@MÜNCHEN.de"}) == "bo@münchen.de"


# Salesforce writes


def test_writes_to_known_records_name_them_by_id_with_their_own_flag():
    writes = [Write(salesforce.key("Lead", "00Q1"), True, "R5"),
              Write(salesforce.key("Account", "0011"), True, "R5"),
              Write(autopilot.key("a@x.io"), True, "R5")]  # another system's: not here
    assert salesforce.write_records("a@x.io", writes) == [
        ("Lead", {"Id": "00Q1", "HasOptedOutOfEmail": True}),
        ("Account", {"Id": "0011", "PersonHasOptedOutOfEmail": True})]


def test_write_by_address_reaches_every_kind_of_record():
    write = Write(RecordKey(CRM, "salesforce", BY_EMAIL, "p@x.io"), False, "R5")
    assert salesforce.write_records("p@x.io", [write]) == [
        ("Lead", {"Email": "p@x.io", "HasOptedOutOfEmail": False}),
        ("Contact", {"Email": "p@x.io", "HasOptedOutOfEmail": False}),
        ("Account", {"PersonEmail": "p@x.io", "PersonHasOptedOutOfEmail": False})]


# Autopilot profiles (R9) and contacts


def test_person_account_profile_has_no_company_even_through_field_map():
    fields, custom = autopilot.profile_fields(
        "Account", {"Name": "Eve Example", "FirstName": "Eve", "Industry__c": "Arts"},
        {"Name": "Company", "Industry__c": "Industry"})
    assert fields == {"FirstName": "Eve", "Industry": "Arts"} and custom == {}


def test_field_map_sends_unknown_names_to_custom_fields_and_skips_empty_values():
    fields, custom = autopilot.profile_fields(
        "Lead", {"Company": "Engines", "Country": "Germany", "Tier__c": "Gold", "Score__c": 7,
                 "Title": None, "Empty__c": ""},
        {"Tier__c": "Customer Tier", "Score__c": "Lead Score", "Title": "Title",
         "Empty__c": "Empty"})
    assert fields == {"Company": "Engines", "MailingCountry": "Germany"}
    assert custom == {"Customer Tier": "Gold", "Lead Score": 7}


def test_contact_company_is_left_out():
    fields, _ = autopilot.profile_fields("Contact", {"Company": "not a Contact field",
                                                     "LastName": "L", "MailingCountry": "Peru"},
                                         {})
    assert fields == {"LastName": "L", "MailingCountry": "Peru"}


def test_newest_record_wins_each_field_older_ones_fill_gaps_lists_are_the_union():
    old = ({"FirstName": "Old", "Company": "Engines"}, "2024-01-01T00:00:00.000+00:00", LEADS)
    new = ({"FirstName": "New"}, "2024-02-01T00:00:00.000+00:00", CONTACTS)
    for order in ((old, new), (new, old)):
        profile = Profile()
        for fields, stamp, list_name in order:
            profile.add(list_name, fields, {}, stamp)
        assert profile.fields == {"FirstName": "New", "Company": "Engines"}
        assert autopilot.profile_record(profile)["lists"] == [CONTACTS, LEADS]


def test_exiting_records_leave_only_the_lists_no_live_record_keeps():
    profile = Profile()
    profile.exit(LEADS)
    profile.add(CONTACTS, {"LastName": "Live"}, {}, "2024-01-01T00:00:00.000+00:00")
    profile.exit(CONTACTS)
    assert profile.lists_to_leave() == [LEADS]
    assert Profile(exit_lists=(LEADS,)).contributed is False


def test_contact_record_carries_consent_only_when_the_rules_decided_a_write():
    contact = autopilot.key("Ada@x.io")
    assert autopilot.contact_record(contact, None, {"LastName": "L"}, None) == {
        "Email": "Ada@x.io", "LastName": "L"}  # absent: the contact's state is left alone
    write = Write(contact, True, "R5")
    memory = RecordMemory(contact, native_id="person_7")
    assert autopilot.contact_record(contact, memory, None, write) == {
        "Email": "Ada@x.io", "unsubscribed": True}
    # a case twin of another contact of the person is named by its own id
    assert autopilot.contact_record(contact, memory, None, write, twin=True) == {
        "Email": "Ada@x.io", "unsubscribed": True, "contact_id": "person_7"}
    assert autopilot.deletion(contact, "2026-03-01T00:00:00Z") == {
        "Email": "Ada@x.io", "_sdc_deleted_at": "2026-03-01T00:00:00Z"}


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
    seen = autopilot.observe("contacts", {"contact_id": "person_1", "Email": "Pat@X.io",
                                          "unsubscribed": unsubscribed,
                                          "hard_bounced": hard_bounced,
                                          "updated_at": "2026-03-01T10:00:00Z"})
    assert isinstance(seen, Observation)
    # the contact is known by its own spelling; the person by the normalized address
    assert (seen.key.record_id, seen.email, seen.native_id) == ("Pat@X.io", "pat@x.io",
                                                                "person_1")
    assert rules.opted_out(seen, ctx(bounce_is_opt_out))[0] is expected


def test_streams_without_consent_give_nothing():
    assert autopilot.observe("lists", {"list_id": "contactlist_1", "title": "x"}) is None


def test_autopilot_contact_without_valid_email_is_skipped_by_its_id():
    seen = autopilot.observe("contacts", {"contact_id": "person_2", "Email": "no-at-sign"})
    assert isinstance(seen, Skip) and seen.reason is SkipReason.INVALID_EMAIL
    assert seen.source.record_id == "person_2"
