"""Keys of input records, fields that are never written, lookups and field checks."""

from __future__ import annotations

import datetime

import pytest

from target_salesforce.errors import FieldAccessError
from target_salesforce.lookup import already_equal, lookup_filters, rows_by_value
from target_salesforce.preflight import check_fields
from target_salesforce.records import InvalidRecord, StreamKeys, key_record
from target_salesforce.writes import Write

LEAD = StreamKeys("Lead", match_field="Email", external_id_field="Ext_Id__c")


def test_id_wins_and_key_and_metadata_fields_are_not_written():
    keyed = key_record({"Id": "00Q1", "Email": "a@x.io", "HasOptedOutOfEmail": True,
                        "_sdc_extracted_at": "2024-01-01", "attributes": {"type": "Lead"}}, LEAD)
    assert (keyed.kind, keyed.key, keyed.fields) == ("id", "00Q1", {"HasOptedOutOfEmail": True})


def test_match_field_then_external_id():
    assert key_record({"Email": " a@x.io ", "HasOptedOutOfEmail": False}, LEAD).kind == "match"
    keyed = key_record({"Email": None, "Ext_Id__c": "E1", "Company": "C"}, LEAD)
    assert (keyed.kind, keyed.key, keyed.fields) == ("external_id", "E1", {"Company": "C"})


def test_a_record_without_any_key_names_the_fix():
    with pytest.raises(InvalidRecord, match="send Id, or set match_fields"):
        key_record({"HasOptedOutOfEmail": True, "Email": ""}, LEAD)


def test_datetimes_parsed_by_the_sdk_go_back_as_iso_text():
    moment = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    body = Write("Lead", {"Last_Consent__c": moment}, record_id="00Q1").body()
    assert body == {"attributes": {"type": "Lead"}, "id": "00Q1",
                    "Last_Consent__c": "2024-05-01T12:00:00+00:00"}


def test_lookup_leaves_out_converted_leads_and_person_contacts():
    lead = {"fields": [{"name": "Email"}, {"name": "IsConverted"}]}
    contact = {"fields": [{"name": "Email"}, {"name": "IsPersonAccount"}]}
    account = {"fields": [{"name": "PersonEmail"}, {"name": "IsPersonAccount"}]}
    assert lookup_filters("Lead", "Email", lead) == ["IsConverted = false"]
    assert lookup_filters("Contact", "Email", contact) == ["IsPersonAccount = false"]
    assert lookup_filters("Contact", "Email", {"fields": [{"name": "Email"}]}) == []
    assert lookup_filters("Account", "PersonEmail", account) == ["IsPersonAccount = true"]


def test_rows_are_grouped_case_blind_and_no_ops_recognised():
    rows = [{"Id": "1", "Email": "Dana@x.io", "HasOptedOutOfEmail": True},
            {"Id": "2", "Email": "DANA@X.IO", "HasOptedOutOfEmail": False}]
    grouped = rows_by_value(rows, "Email")
    assert [r["Id"] for r in grouped["dana@x.io"]] == ["1", "2"]
    assert already_equal(rows[0], {"HasOptedOutOfEmail": True})
    assert not already_equal(rows[1], {"HasOptedOutOfEmail": True})
    assert not already_equal(rows[0], {"HasOptedOutOfEmail": 1})
    assert not already_equal(rows[0], {"Company": "C"})


DESCRIBE = {"fields": [
    {"name": "Email", "updateable": True},
    {"name": "HasOptedOutOfEmail", "updateable": True},
    {"name": "IsConverted", "updateable": False},
    {"name": "Name", "updateable": False, "calculated": True},
]}


def test_field_check_gives_canonical_names():
    assert check_fields("Lead", DESCRIBE, ["hasoptedoutofemail"], ["email"]) == {
        "hasoptedoutofemail": "HasOptedOutOfEmail", "email": "Email"}


def test_hidden_field_names_object_field_and_setup_path():
    with pytest.raises(FieldAccessError) as caught:
        check_fields("Contact", DESCRIBE, ["Secret__c"])
    message = str(caught.value)
    assert "Contact.Secret__c" in message and "Field Accessibility" in message
    assert "Visible" in message


def test_read_only_field_says_to_grant_edit_access():
    with pytest.raises(FieldAccessError, match="Grant edit access"):
        check_fields("Lead", DESCRIBE, ["IsConverted"])
    with pytest.raises(FieldAccessError, match="formula"):
        check_fields("Lead", DESCRIBE, ["Name"])
