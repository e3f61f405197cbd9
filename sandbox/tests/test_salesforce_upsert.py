"""Salesforce stand-in: upsert by external id, single and in collections, and injected failures."""

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from consent_sandbox.salesforce.testing import connect, trusting_session

pytestmark = pytest.mark.xdist_group("salesforce-upsert")


@pytest.fixture(autouse=True)
def clean(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")
    sandbox.admin("salesforce", "DELETE", "/faults")


@pytest.fixture(scope="module")
def sf(sandbox):
    return connect(sandbox)


def leads(sandbox) -> list[dict]:
    return [r for r in sandbox.admin("salesforce", "GET", "/records/Lead").json()
            if not r["IsDeleted"]]


def test_describe_marks_the_external_id_field(sf):
    fields = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    assert fields["External_Id__c"]["externalId"] is True
    assert fields["External_Id__c"]["idLookup"] is True
    assert fields["LastName"]["externalId"] is False and fields["LastName"]["idLookup"] is False


def test_single_upsert_creates_then_updates(sf, sandbox):
    created = sf.Lead.upsert("External_Id__c/ext-1", {"LastName": "Hopper", "Company": "Navy"},
                             raw_response=True)
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    assert body["id"].startswith("00Q")
    updated = sf.Lead.upsert("External_Id__c/EXT-1", {"HasOptedOutOfEmail": True},
                             raw_response=True)  # keys compare case-blind
    assert updated.status_code == 200
    assert updated.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    [row] = leads(sandbox)
    assert (row["External_Id__c"], row["HasOptedOutOfEmail"]) == ("ext-1", True)


def test_old_api_versions_answer_204_on_update(sandbox):
    old = connect(sandbox, version="45.0")
    assert old.Lead.upsert("External_Id__c/x", {"LastName": "A", "Company": "B"}) == 201
    assert old.Lead.upsert("External_Id__c/x", {"Company": "C"}) == 204


def test_several_matches_answer_300_with_their_urls(sf, sandbox):
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "A", "Company": "c", "Email": "same@example.com"},
        {"LastName": "B", "Company": "c", "Email": "Same@Example.com"}]).json()["ids"]
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Lead.upsert("Email/same@example.com", {"Company": "d"})
    assert caught.value.status == 300
    assert sorted(caught.value.content) == sorted(
        f"/services/data/v59.0/sobjects/Lead/{i}" for i in ids)


@pytest.mark.parametrize("field", ["LastName", "Nope__c"])
def test_a_field_that_is_no_key_is_not_found(sf, field):
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Lead.upsert(f"{field}/x", {"Company": "d"})
    assert caught.value.content == [{
        "message": f"Provided external ID field does not exist or is not accessible: {field}",
        "errorCode": "NOT_FOUND"}]


def test_a_hidden_key_field_is_not_found_and_a_read_only_one_cannot_create(sf, sandbox):
    sandbox.admin("salesforce", "POST", "/fls", json={"object": "Lead", "field": "External_Id__c",
                                                       "access": "read_only"})
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Lead.upsert("External_Id__c/k", {"LastName": "A", "Company": "B"})
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    sandbox.admin("salesforce", "POST", "/fls", json={"object": "Lead", "field": "External_Id__c",
                                                       "access": "hidden"})
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.upsert("External_Id__c/k", {"LastName": "A", "Company": "B"})


def test_get_by_external_id(sf):
    created = sf.Lead.upsert("External_Id__c/g1", {"LastName": "G", "Company": "C"},
                             raw_response=True).json()
    assert sf.Lead.get_by_custom_id("External_Id__c", "g1")["Id"] == created["id"]


def test_collection_upsert_reports_created_per_record(sf, sandbox):
    sf.Lead.upsert("External_Id__c/a", {"LastName": "A", "Company": "C"})
    records = [
        {"attributes": {"type": "Lead"}, "External_Id__c": "a", "HasOptedOutOfEmail": True},
        {"attributes": {"type": "Lead"}, "External_Id__c": "b", "LastName": "B", "Company": "C"},
        {"attributes": {"type": "Lead"}, "External_Id__c": "c", "LastName": "C"},
        {"attributes": {"type": "Lead"}, "LastName": "D", "Company": "C"},
    ]
    results = sf.restful("composite/sobjects/Lead/External_Id__c", method="PATCH",
                         json={"allOrNone": False, "records": records})
    assert [(r["success"], r["created"]) for r in results] == [
        (True, False), (True, True), (False, False), (False, False)]
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[3]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    by_key = {r["External_Id__c"]: r for r in leads(sandbox)}
    assert set(by_key) == {"a", "b"} and by_key["a"]["HasOptedOutOfEmail"] is True


def test_collection_upsert_all_or_none_rolls_back(sf, sandbox):
    records = [{"attributes": {"type": "Lead"}, "External_Id__c": "a", "LastName": "A",
                "Company": "C"},
               {"attributes": {"type": "Lead"}, "External_Id__c": "b", "Email": "bad@@x",
                "LastName": "B", "Company": "C"}]
    results = sf.restful("composite/sobjects/Lead/External_Id__c", method="PATCH",
                         json={"allOrNone": True, "records": records})
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert "id" not in results[0] and results[0]["created"] is False
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert leads(sandbox) == []


def test_collection_upsert_by_a_non_key_field_is_not_found(sandbox):
    token = connect(sandbox).session_id
    response = trusting_session(sandbox).patch(
        f"{sandbox.salesforce_url}/services/data/v59.0/composite/sobjects/Lead/Company",
        json={"records": []}, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_injected_record_failures_fail_named_records_a_number_of_times(sf, sandbox):
    sandbox.admin("salesforce", "POST", "/record-failures", json={
        "field": "External_Id__c", "values": ["B"], "error_code": "UNABLE_TO_LOCK_ROW",
        "times": 1})
    records = [{"attributes": {"type": "Lead"}, "External_Id__c": k, "LastName": k,
                "Company": "C"} for k in ("a", "b")]
    first = sf.restful("composite/sobjects/Lead/External_Id__c", method="PATCH",
                       json={"records": records})
    assert [r["success"] for r in first] == [True, False]
    assert first[1]["errors"] == [{"statusCode": "UNABLE_TO_LOCK_ROW", "fields": [],
                                   "message": "unable to obtain exclusive access to this record "
                                              "or 1 records"}]
    second = sf.restful("composite/sobjects/Lead/External_Id__c", method="PATCH",
                        json={"records": records})
    assert [(r["success"], r["created"]) for r in second] == [(True, False), (True, True)]


def test_a_custom_external_id_field_from_the_admin_surface(sf, sandbox):
    sandbox.admin("salesforce", "POST", "/fields", json={
        "object": "Contact", "name": "Crm_Key__c", "type": "string", "external_id": True})
    field = next(f for f in sf.Contact.describe()["fields"] if f["name"] == "Crm_Key__c")
    assert (field["externalId"], field["idLookup"]) == (True, True)
    assert sf.Contact.upsert("Crm_Key__c/c-1", {"LastName": "K"}) == 201
    assert sf.Contact.upsert("Crm_Key__c/c-1", {"FirstName": "Kay"}) == 200
    assert sf.Contact.get_by_custom_id("Crm_Key__c", "c-1")["Name"] == "Kay K"
