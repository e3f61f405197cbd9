"""A write of ours to a record with a consent write still owed carries that value."""

from consent_mapper.pending_carry import carry_pending
from consent_mapper.rules import CRM, PLATFORM, RecordKey, RecordMemory

CONTACT = RecordKey(PLATFORM, "autopilot", "contact", "c3@chaos.io")
LEAD = RecordKey(CRM, "salesforce", "Lead", "00QSb0000000004MAA")


def test_a_profile_upsert_carries_the_re_subscribe_still_owed_to_the_contact():
    # the chaos finding: a profile-only upsert moved updated_at and left the old opt-out, which
    # the next read took for the person's own opt-out
    records = [("contacts", {"Email": "c3@chaos.io", "FirstName": "C"})]
    memories = {CONTACT: RecordMemory(CONTACT, observed=True, pending=False)}
    assert carry_pending(records, memories, "autopilot") == [
        ("contacts", {"Email": "c3@chaos.io", "FirstName": "C", "unsubscribed": False})]


def test_a_mapped_field_write_carries_the_opt_out_still_owed_to_the_lead():
    records = [("Lead", {"Id": LEAD.record_id, "Tier__c": "Gold", "_expected": {}})]
    memories = {LEAD: RecordMemory(LEAD, observed=False, pending=True)}
    assert carry_pending(records, memories, "autopilot")[0][1]["HasOptedOutOfEmail"] is True


def test_nothing_owed_or_a_decided_value_or_a_deletion_is_left_as_it_is():
    settled = {CONTACT: RecordMemory(CONTACT, observed=True, pending=None)}
    upsert = [("contacts", {"Email": "c3@chaos.io", "FirstName": "C"})]
    assert carry_pending(upsert, settled, "autopilot") == upsert
    owed = {CONTACT: RecordMemory(CONTACT, observed=True, pending=False)}
    decided = [("contacts", {"Email": "c3@chaos.io", "unsubscribed": True})]
    assert carry_pending(decided, owed, "autopilot")[0][1]["unsubscribed"] is True
    deletion = [("contacts", {"Email": "c3@chaos.io", "_sdc_deleted_at": "2026-12-02T00:00:00Z"})]
    assert "unsubscribed" not in carry_pending(deletion, owed, "autopilot")[0][1]
