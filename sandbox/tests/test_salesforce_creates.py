"""Salesforce stand-in: creating Leads and Contacts through sObject Collections, as the list
creates of target-salesforce do (required fields, the owner, bad owners), via simple-salesforce."""

import pytest

from consent_sandbox.salesforce.schema import INTEGRATION_USER_ID
from consent_sandbox.salesforce.testing import connect


@pytest.fixture(autouse=True)
def clean(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")


@pytest.fixture(scope="module")
def sf(sandbox):
    return connect(sandbox)


def create(sf, *records: dict) -> list[dict]:
    return sf.restful("composite/sobjects", method="POST",
                      json={"allOrNone": False, "records": list(records)})


def test_created_records_are_owned_by_the_connected_user(sf):
    lead, contact = create(
        sf, {"attributes": {"type": "Lead"}, "LastName": "L", "Company": "[not provided]",
             "Email": "l@x.io", "HasOptedOutOfEmail": True},
        {"attributes": {"type": "Contact"}, "LastName": "C", "Email": "c@x.io"})
    assert lead["success"] and lead["id"].startswith("00Q") and lead["errors"] == []
    assert contact["success"] and contact["id"].startswith("003")
    row = sf.Lead.get(lead["id"])
    assert (row["OwnerId"], row["HasOptedOutOfEmail"], row["Status"]) == (
        INTEGRATION_USER_ID, True, "Open - Not Contacted")
    assert sf.Contact.get(contact["id"])["AccountId"] is None  # a Contact needs no Account


def test_a_lead_needs_last_name_and_company_a_contact_last_name(sf):
    no_company, no_name, contact = create(
        sf, {"attributes": {"type": "Lead"}, "LastName": "L", "Email": "a@x.io"},
        {"attributes": {"type": "Lead"}, "Email": "b@x.io"},
        {"attributes": {"type": "Contact"}, "Email": "c@x.io"})
    assert no_company == {"success": False, "errors": [{
        "statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: "
        "[Company]", "fields": ["Company"]}]}
    assert no_name["errors"][0]["fields"] == ["LastName", "Company"]
    assert contact["errors"][0] == {"statusCode": "REQUIRED_FIELD_MISSING", "message":
                                    "Required fields are missing: [LastName]",
                                    "fields": ["LastName"]}
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 0


def test_an_owner_that_is_no_user_is_an_invalid_cross_reference(sf):
    bad, good = create(
        sf, {"attributes": {"type": "Lead"}, "LastName": "L", "Company": "C",
             "OwnerId": "005Sb00000000zzAAA"},
        {"attributes": {"type": "Lead"}, "LastName": "M", "Company": "C",
         "OwnerId": INTEGRATION_USER_ID})
    assert bad == {"success": False, "errors": [{
        "statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid cross reference id",
        "fields": ["OwnerId"]}]}
    assert good["success"], good
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Lead"}, "id": good["id"], "OwnerId": "005Sb00000000zzAAA"}]})
    assert updated[0]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
