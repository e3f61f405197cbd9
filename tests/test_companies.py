"""Salesforce Accounts as companies on Autopilot, through real `meltano run` on the sandbox.

Autopilot's REST API v1 has no company object: a contact's company is its company fields, the
Account's Name as `Company` plus the Account fields of `account_field_map`.
"""

from __future__ import annotations

import json

import pytest

JOB = "salesforce-to-autopilot"


@pytest.fixture
def mapped(meltano):
    """Industry (an Autopilot standard field) and a custom field mapped from the Account."""
    meltano.extra_env["TAP_SALESFORCE_OPTOUT_EXTRA_FIELDS"] = json.dumps(
        {"Account": ["Industry", "NumberOfEmployees"]})
    meltano.extra_env["CONSENT_MAPPER_ACCOUNT_FIELD_MAP"] = json.dumps(
        {"Industry": "Industry", "NumberOfEmployees": "Headcount"})
    return meltano


def custom(contact: dict) -> dict:
    return {f["kind"]: f["value"] for f in contact.get("custom_fields") or ()}


def test_a_contacts_company_is_its_accounts_name_with_a_mapped_field(systems, mapped):
    (acme,) = systems.add("Account", {"Name": "Acme", "Industry": "Energy",
                                      "NumberOfEmployees": 250})
    systems.add("Contact", {"LastName": "Ann", "Email": "ann@acme.example", "AccountId": acme},
                {"LastName": "Solo", "Email": "solo@x.example"})

    result = mapped.run(JOB)

    contacts = systems.ap()
    assert set(contacts) == {"ann@acme.example", "solo@x.example"}  # the Account is no contact
    ann = contacts["ann@acme.example"]
    assert ann["Company"] == "Acme" and ann["Industry"] == "Energy"
    assert custom(ann) == {"Headcount": 250}
    assert not contacts["solo@x.example"].get("Company")
    assert "business_account" not in result.stderr  # synced as a company, not skipped


def test_an_account_rename_reaches_every_contact_and_the_next_run_writes_nothing(systems,
                                                                                 mapped):
    (acme,) = systems.add("Account", {"Name": "Acme", "Industry": "Energy"})
    (globex,) = systems.add("Account", {"Name": "Globex", "Industry": "Retail"})
    systems.add("Contact", *({"LastName": f"P{i}", "Email": f"p{i}@acme.example",
                              "AccountId": acme} for i in range(3)),
                {"LastName": "G", "Email": "g@globex.example", "AccountId": globex})
    mapped.run("consent-sync")
    assert {e: c["Company"] for e, c in systems.ap().items()} == {
        "p0@acme.example": "Acme", "p1@acme.example": "Acme", "p2@acme.example": "Acme",
        "g@globex.example": "Globex"}
    contact_stamps = {r["Id"]: r["SystemModstamp"] for r in
                      systems.sandbox.admin("salesforce", "GET", "/records/Contact").json()}

    systems.edit("Account", acme, Name="Acme Corp", Industry="Utilities")
    systems.reset_counters()
    mapped.run("consent-sync")

    contacts = systems.ap()
    assert {e: (c["Company"], c["Industry"]) for e, c in contacts.items()} == {
        "p0@acme.example": ("Acme Corp", "Utilities"), "p1@acme.example": ("Acme Corp",
                                                                           "Utilities"),
        "p2@acme.example": ("Acme Corp", "Utilities"), "g@globex.example": ("Globex", "Retail")}
    # the Contacts did not change: only the Account's row was read, and it reached all three
    assert {r["Id"]: r["SystemModstamp"] for r in systems.sandbox.admin(
        "salesforce", "GET", "/records/Contact").json()} == contact_stamps
    upserts = [c for c in systems.sandbox.calls("autopilot")["calls"]
               if c["method"] == "POST" and c["endpoint"].endswith("/contacts")]
    assert sum(c["count"] for c in upserts) == 1  # one bulk upsert for the three
    assert systems.writes()["salesforce"] == 0

    systems.reset_counters()
    mapped.run("consent-sync")
    assert systems.writes() == {"salesforce": 0, "platform": 0}  # R6: nothing changed


def test_a_person_account_is_one_contact_with_company_fields_and_no_address(systems, mapped):
    systems.add("Account", {"FirstName": "Eve", "LastName": "Person",
                            "PersonEmail": "eve@x.example", "PersonHasOptedOutOfEmail": True,
                            "Industry": "Retail", "NumberOfEmployees": 1})

    mapped.run(JOB)

    contacts = systems.ap()
    assert list(contacts) == ["eve@x.example"]  # one contact: the person (R9)
    eve = contacts["eve@x.example"]
    assert eve["unsubscribed"] is True and eve["FirstName"] == "Eve"
    assert eve["Industry"] == "Retail" and custom(eve) == {"Headcount": 1}
    # a Person Account's Name is the person: no company name, and no address in any field
    assert not eve.get("Company")
    values = [v for k, v in eve.items() if k != "Email"] + list(custom(eve).values())
    assert not any("eve@x.example" in str(v).lower() for v in values)
