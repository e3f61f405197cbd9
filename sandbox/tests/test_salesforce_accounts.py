"""Salesforce stand-in: business Accounts and their company fields, as a sync reads them."""

import pytest
from simple_salesforce import format_soql

from consent_sandbox.salesforce.testing import connect


@pytest.fixture(scope="module")
def sf(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")
    return connect(sandbox)


def test_describe_has_the_standard_company_fields_with_their_types(sf):
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}
    expected = {"Name": "string", "Type": "picklist", "Industry": "picklist", "Website": "url",
                "NumberOfEmployees": "int", "AnnualRevenue": "currency",
                "BillingCountry": "string", "BillingCity": "string", "BillingState": "string",
                "BillingPostalCode": "string", "BillingStreet": "textarea",
                "Description": "textarea"}
    assert {name: fields[name]["type"] for name in expected} == expected
    assert fields["NumberOfEmployees"]["digits"] == 8
    assert fields["NumberOfEmployees"]["soapType"] == "xsd:int"
    assert (fields["AnnualRevenue"]["precision"], fields["AnnualRevenue"]["scale"]) == (18, 0)
    assert fields["Website"]["length"] == 255 and fields["Industry"]["updateable"] is True
    assert fields["Name"]["label"] == "Account Name"


def test_company_fields_are_written_and_queried_with_their_json_types(sf):
    created = sf.Account.create({"Name": "Acme", "Industry": "Energy", "Type": "Customer",
                                 "Website": "https://acme.example", "NumberOfEmployees": 250,
                                 "AnnualRevenue": 1500000, "BillingCountry": "Germany"})
    assert created["success"] is True
    contact = sf.Contact.create({"LastName": "Ann", "Email": "ann@acme.example",
                                 "AccountId": created["id"]})
    rows = sf.query_all(format_soql(
        "SELECT Id, Name, Industry, Website, NumberOfEmployees, AnnualRevenue, IsPersonAccount "
        "FROM Account WHERE Industry = {} AND NumberOfEmployees > 100", "energy"))["records"]
    assert [(r["Name"], r["NumberOfEmployees"], r["AnnualRevenue"], r["IsPersonAccount"])
            for r in rows] == [("Acme", 250, 1500000, False)]
    assert isinstance(rows[0]["NumberOfEmployees"], int)
    contacts = sf.query(format_soql("SELECT AccountId FROM Contact WHERE Id = {}",
                                    contact["id"]))["records"]
    assert contacts[0]["AccountId"] == created["id"]


def test_a_rename_moves_the_accounts_modstamp_and_not_its_contacts(sf):
    account = sf.Account.create({"Name": "Globex"})["id"]
    contact = sf.Contact.create({"LastName": "Bob", "AccountId": account})["id"]
    before = sf.Contact.get(contact)["SystemModstamp"]
    stamp = sf.Account.get(account)["SystemModstamp"]
    sf.Account.update(account, {"Name": "Globex Corp"})
    after = sf.Account.get(account)
    assert after["Name"] == "Globex Corp" and after["SystemModstamp"] >= stamp
    assert sf.Contact.get(contact)["SystemModstamp"] == before
    changed = sf.query_all(f"SELECT Id, Name FROM Account WHERE SystemModstamp >= {stamp[:19]}Z "
                           f"AND Id = '{account}'")["records"]
    assert [r["Name"] for r in changed] == ["Globex Corp"]


def test_deleting_a_business_account_takes_its_contacts_to_the_recycle_bin(sf):
    account = sf.Account.create({"Name": "Initech"})["id"]
    contact = sf.Contact.create({"LastName": "Peter", "AccountId": account})["id"]
    other = sf.Contact.create({"LastName": "Elsewhere"})["id"]
    sf.Account.delete(account)
    deleted = sf.query_all(format_soql("SELECT Id, IsDeleted FROM Contact WHERE Id IN {}",
                                       [contact, other]), include_deleted=True)["records"]
    assert {r["Id"]: r["IsDeleted"] for r in deleted} == {contact: True, other: False}
