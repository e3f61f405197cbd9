"""Custom fields a two-way field mapping needs: a formula field in Salesforce, custom fields of
every Autopilot type written through the API and edited in the UI."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from consent_sandbox.salesforce.testing import connect


@pytest.fixture
def sf(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")
    return connect(sandbox)


def test_a_formula_field_is_calculated_and_refuses_writes(sf, sandbox):
    for obj in ("Lead", "Contact"):
        sandbox.admin("salesforce", "POST", "/fields",
                      json={"object": obj, "name": "Score_Band__c", "formula": True})
        sandbox.admin("salesforce", "POST", "/fields",
                      json={"object": obj, "name": "Tier__c", "type": "string"})
        fields = {f["name"]: f for f in getattr(sf, obj).describe()["fields"]}
        band, tier = fields["Score_Band__c"], fields["Tier__c"]
        assert (band["calculated"], band["updateable"], band["createable"]) == (True, False, False)
        assert (tier["calculated"], tier["updateable"]) == (False, True)
    lead = sf.Lead.create({"LastName": "L", "Company": "C", "Tier__c": "Gold"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Lead.update(lead, {"Score_Band__c": "A"})
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    # its inputs changed elsewhere: the admin surface sets its value; the API reads it
    sandbox.admin("salesforce", "PATCH", f"/records/Lead/{lead}", json={"Score_Band__c": "B"})
    row = sf.query(f"SELECT Tier__c, Score_Band__c FROM Lead WHERE Id = '{lead}'")["records"][0]
    assert (row["Tier__c"], row["Score_Band__c"]) == ("Gold", "B")


def test_custom_fields_of_every_type_read_back_with_their_types(api, sandbox):
    custom = {"string--Customer--Tier": "Gold", "boolean--VIP": True,
              "date--Renewal--Date": "2025-03-01", "integer--Seats": 12, "float--Score": 4.5}
    assert api("POST", "/contact", json={"contact": {"Email": "t@x.io",
                                                     "custom": custom}}).status_code == 200
    read = api("GET", "/contact/t@x.io").json()
    assert {c["kind"]: (c["fieldType"], c["value"]) for c in read["custom_fields"]} == {
        "Customer Tier": ("string", "Gold"), "VIP": ("boolean", True),
        "Renewal Date": ("date", "2025-03-01"), "Seats": ("integer", 12),
        "Score": ("float", 4.5)}
    assert {f["name"]: f["fieldType"] for f in api("GET", "/contacts/custom_fields").json()} == {
        "Customer Tier": "string", "VIP": "boolean", "Renewal Date": "date", "Seats": "integer",
        "Score": "float"}
    wrong = api("POST", "/contact", json={"contact": {"Email": "t@x.io",
                                                      "custom": {"integer--VIP": 1}}})
    assert wrong.status_code == 400 and "is of type boolean" in wrong.json()["message"]


def test_a_custom_field_edited_in_the_ui_moves_updated_at(api, sandbox):
    api("POST", "/contact", json={"contact": {"Email": "t@x.io",
                                              "custom": {"string--Customer--Tier": "Gold"}}})
    before = api("GET", "/contact/t@x.io").json()
    edited = sandbox.admin("autopilot", "POST", "/contacts/t@x.io", json={
        "custom": {"string--Customer--Tier": "Platinum"}}).json()
    assert [c["value"] for c in edited["custom_fields"]] == ["Platinum"]
    assert edited["updated_at"] > before["updated_at"]
    assert api("GET", "/contact/t@x.io").json() == edited
