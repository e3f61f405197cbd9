"""Salesforce stand-in: sObject writes, collections, describe, FLS, Person Accounts, conversion."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from consent_sandbox.salesforce.testing import connect

ROLLED_BACK = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
               "message": "Record rolled back because not all records were valid and the "
                          "request was using AllOrNone header", "fields": []}


@pytest.fixture(autouse=True)
def clean(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")
    sandbox.admin("salesforce", "DELETE", "/faults")
    yield
    sandbox.admin("salesforce", "DELETE", "/faults")


@pytest.fixture(scope="module")
def sf(sandbox):
    return connect(sandbox)


def lead(n: int, **extra: object) -> dict:
    return {"attributes": {"type": "Lead"}, "LastName": f"L{n}", "Company": "Acme",
            "Email": f"l{n}@example.com", **extra}


def rows(sandbox, obj: str) -> dict:
    return {r["Id"]: r for r in sandbox.admin("salesforce", "GET", f"/records/{obj}").json()}


def test_create_get_update_delete_one_record(sf, sandbox):
    created = sf.Lead.create({"LastName": "Lovelace", "FirstName": "Ada", "Company": "AE",
                              "Email": "ada@example.com"})
    assert created == {"id": created["id"], "success": True, "errors": []}
    assert created["id"].startswith("00Q") and len(created["id"]) == 18
    record = sf.Lead.get(created["id"])
    assert record["Name"] == "Ada Lovelace" and record["HasOptedOutOfEmail"] is False
    assert record["Status"] == "Open - Not Contacted"
    assert sf.Lead.update(created["id"], {"HasOptedOutOfEmail": True}) == 204
    after = sf.Lead.get(created["id"][:15])  # 15-character Ids work too
    assert after["HasOptedOutOfEmail"] is True
    assert after["SystemModstamp"] >= record["SystemModstamp"]
    assert sf.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as gone:
        sf.Lead.get(created["id"])
    assert gone.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceMalformedRequest) as deleted:
        sf.Lead.update(created["id"], {"LastName": "x"})
    assert deleted.value.content == [{"message": "entity is deleted",
                                      "errorCode": "ENTITY_IS_DELETED"}]
    assert rows(sandbox, "Lead")[created["id"]]["IsDeleted"] is True


@pytest.mark.parametrize(("values", "code", "fields"), [
    ({"LastName": "x", "Company": "y", "Email": "not@@valid"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
    ({"LastName": "x", "Company": "y", "Nope": 1}, "INVALID_FIELD", ["Nope"]),
    ({"LastName": "x", "Company": "y", "IsConverted": True}, "INVALID_FIELD_FOR_INSERT_UPDATE",
     ["IsConverted"]),
    ({"LastName": "x"}, "REQUIRED_FIELD_MISSING", ["Company"]),
])
def test_single_create_errors(sf, values, code, fields):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create(values)
    [error] = caught.value.content
    assert (error["errorCode"], error["fields"]) == (code, fields)


def test_collection_create_and_update_report_per_record(sf, sandbox):
    created = sf.restful("composite/sobjects", method="POST", json={
        "allOrNone": False, "records": [lead(1), lead(2, Email="bad@@x"), lead(3)]})
    assert [r["success"] for r in created] == [True, False, True]
    assert created[1] == {"success": False, "errors": [{
        "statusCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address: bad@@x",
        "fields": ["Email"]}]}
    good = [created[0]["id"], created[2]["id"]]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Lead"}, "id": good[0], "HasOptedOutOfEmail": True},
        {"attributes": {"type": "Lead"}, "id": good[1], "Nope__c": True},
        {"attributes": {"type": "Lead"}, "HasOptedOutOfEmail": True},
    ]})
    assert updated[0] == {"id": good[0], "success": True, "errors": []}
    assert updated[1]["id"] == good[1] and updated[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert "id" not in updated[2] and updated[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    stored = rows(sandbox, "Lead")
    assert stored[good[0]]["HasOptedOutOfEmail"] is True
    assert stored[good[1]]["HasOptedOutOfEmail"] is False


def test_all_or_none_rolls_the_good_records_back(sf, sandbox):
    result = sf.restful("composite/sobjects", method="POST", json={
        "allOrNone": True, "records": [lead(1), lead(2, Email="bad@@x")]})
    assert result[0] == {"success": False, "errors": [ROLLED_BACK]}
    assert result[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert rows(sandbox, "Lead") == {}


def test_more_than_200_records_are_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST",
                   json={"records": [lead(n) for n in range(201)]})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert len(sf.restful("composite/sobjects", method="POST",
                          json={"records": [lead(n) for n in range(200)]})) == 200


def test_collection_delete(sf, sandbox):
    ids = [r["id"] for r in sf.restful("composite/sobjects", method="POST",
                                       json={"records": [lead(1), lead(2)]})]
    result = sf.restful("composite/sobjects", method="DELETE",
                        params={"ids": ",".join(ids), "allOrNone": "false"})
    assert result == [{"id": i, "success": True, "errors": []} for i in ids]
    again = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids[0]})
    assert again[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"


def test_per_record_unable_to_lock_row_fault(sf, sandbox):
    ids = [r["id"] for r in sf.restful("composite/sobjects", method="POST",
                                       json={"records": [lead(n) for n in range(3)]})]
    sandbox.admin("salesforce", "POST", "/faults",
                  json={"per_record": True, "error_code": "UNABLE_TO_LOCK_ROW", "count": 2})
    result = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Lead"}, "id": i, "HasOptedOutOfEmail": True} for i in ids]})
    assert [r["success"] for r in result] == [False, False, True]
    assert result[0]["id"] == ids[0]
    assert result[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert [rows(sandbox, "Lead")[i]["HasOptedOutOfEmail"] for i in ids] == [False, False, True]


def test_describe_lists_fields_with_their_properties(sf):
    fields = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    assert fields["Email"]["type"] == "email"
    assert fields["HasOptedOutOfEmail"]["type"] == "boolean"
    assert fields["HasOptedOutOfEmail"]["updateable"] is True
    assert fields["SystemModstamp"]["type"] == "datetime"
    assert fields["SystemModstamp"]["updateable"] is False
    assert fields["IsConverted"]["createable"] is False
    assert {"name", "type", "label", "updateable", "createable", "nillable",
            "calculated"} <= set(fields["Email"])
    assert "HasOptedOutOfEmail" not in {f["name"] for f in sf.Account.describe()["fields"]}
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Lead", "Contact", "Account"} <= names


def test_hidden_field_is_gone_everywhere(sf, sandbox):
    made = sf.Lead.create({"LastName": "x", "Company": "y"})
    sandbox.admin("salesforce", "POST", "/fls",
                  json={"object": "Lead", "field": "HasOptedOutOfEmail", "access": "hidden"})
    assert "HasOptedOutOfEmail" not in {f["name"] for f in sf.Lead.describe()["fields"]}
    assert "HasOptedOutOfEmail" not in sf.Lead.get(made["id"])
    for soql in ("SELECT HasOptedOutOfEmail FROM Lead",
                 "SELECT Id FROM Lead WHERE HasOptedOutOfEmail = true"):
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.query(soql)
        assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"
        assert "No such column 'HasOptedOutOfEmail' on entity 'Lead'" in \
            caught.value.content[0]["message"]
    result = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Lead"}, "id": made["id"], "HasOptedOutOfEmail": True}]})
    assert result[0]["errors"][0]["statusCode"] == "INVALID_FIELD"


def test_read_only_field_cannot_be_written(sf, sandbox):
    made = sf.Contact.create({"LastName": "x", "Email": "x@example.com"})
    sandbox.admin("salesforce", "POST", "/fls",
                  json={"object": "Contact", "field": "HasOptedOutOfEmail",
                        "access": "read_only"})
    field = next(f for f in sf.Contact.describe()["fields"] if f["name"] == "HasOptedOutOfEmail")
    assert (field["updateable"], field["createable"]) == (False, False)
    assert sf.query("SELECT HasOptedOutOfEmail FROM Contact")["totalSize"] == 1
    result = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "id": made["id"], "HasOptedOutOfEmail": True}]})
    assert result[0]["errors"][0] == {
        "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
        "message": "Unable to create/update fields: HasOptedOutOfEmail. Please check the security "
                   "settings of this field and verify that it is read/write for your profile or "
                   "permission set.", "fields": ["HasOptedOutOfEmail"]}


def test_person_account_mirrors_a_contact(sf, sandbox):
    made = sf.Account.create({"FirstName": "Grace", "LastName": "Hopper",
                              "PersonEmail": "grace@example.com"})
    account = sf.query(f"SELECT Name, IsPersonAccount, PersonContactId, PersonEmail, "
                       f"SystemModstamp FROM Account WHERE Id = '{made['id']}'")["records"][0]
    assert account["IsPersonAccount"] is True and account["Name"] == "Grace Hopper"
    contact = sf.Contact.get(account["PersonContactId"])
    assert (contact["Email"], contact["IsPersonAccount"], contact["AccountId"]) == (
        "grace@example.com", True, made["id"])
    sf.Account.update(made["id"], {"PersonHasOptedOutOfEmail": True})
    contact_after = sf.Contact.get(account["PersonContactId"])
    assert contact_after["HasOptedOutOfEmail"] is True
    # one write bumps both rows
    assert contact_after["SystemModstamp"] == sf.Account.get(made["id"])["SystemModstamp"]
    business = sf.Account.create({"Name": "Acme"})
    assert sf.Account.get(business["id"])["IsPersonAccount"] is False


def test_converted_lead_cannot_be_updated(sf, sandbox):
    made = sf.Lead.create({"LastName": "x", "Company": "y", "Email": "c@example.com",
                           "HasOptedOutOfEmail": True})
    converted = sandbox.admin("salesforce", "POST", "/convert-lead",
                              json={"lead_id": made["id"]}).json()
    lead_row = sf.Lead.get(made["id"])
    assert lead_row["IsConverted"] is True
    assert lead_row["ConvertedContactId"] == converted["contact_id"]
    assert sf.Contact.get(converted["contact_id"])["HasOptedOutOfEmail"] is True
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.update(made["id"], {"HasOptedOutOfEmail": False})
    assert caught.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_conversion_into_an_existing_contact_drops_the_opt_out(sf, sandbox):
    contact = sf.Contact.create({"LastName": "x", "Email": "d@example.com"})
    made = sf.Lead.create({"LastName": "x", "Company": "y", "Email": "d@example.com",
                           "HasOptedOutOfEmail": True})
    sandbox.admin("salesforce", "POST", "/convert-lead",
                  json={"lead_id": made["id"], "contact_id": contact["id"]})
    assert sf.Contact.get(contact["id"])["HasOptedOutOfEmail"] is False
    assert sf.Lead.get(made["id"])["ConvertedContactId"] == contact["id"]


def test_custom_field_and_admin_edit(sf, sandbox):
    sandbox.admin("salesforce", "POST", "/fields",
                  json={"object": "Lead", "name": "Consent_Source__c", "type": "string"})
    made = sf.Lead.create({"LastName": "x", "Company": "y", "Consent_Source__c": "web"})
    before = sf.Lead.get(made["id"])
    sandbox.admin("salesforce", "PATCH", f"/records/Lead/{made['id']}?system=true",
                  json={"EmailBouncedReason": "550 no such user"})
    after = sf.query(f"SELECT Consent_Source__c, EmailBouncedReason, LastModifiedDate, "
                     f"SystemModstamp FROM Lead WHERE Id = '{made['id']}'")["records"][0]
    assert after["Consent_Source__c"] == "web"
    assert after["EmailBouncedReason"] == "550 no such user"
    assert after["LastModifiedDate"] == before["LastModifiedDate"]  # a system-only change


def test_demo_data_loads_into_an_empty_store(tmp_path):
    from consent_sandbox.demo import demo_people
    from consent_sandbox.testing import running_sandbox

    with running_sandbox(tmp_path / "d", "--demo-size", "400") as demo:
        sf = connect(demo)
        leads = sf.query_all("SELECT Email, IsConverted FROM Lead", include_deleted=True)
        people = demo_people(400)
        expected = sum(p.salesforce.count("Lead") + p.salesforce.count("ConvertedLead")
                       for p in people)
        assert leads["totalSize"] == expected
        assert any(r["IsConverted"] for r in leads["records"])
        persons = sf.query("SELECT COUNT() FROM Account WHERE IsPersonAccount = true")
        assert persons["totalSize"] >= 1
        upper = next(p for p in people if p.salesforce == ("Lead", "Contact") and p.email_ok)
        both = sf.query(f"SELECT Email FROM Contact WHERE Email = '{upper.email}'")
        assert both["records"][0]["Email"] == upper.email_variant(1)
