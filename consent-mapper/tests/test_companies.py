"""Salesforce Accounts as the company fields of their contacts, through the mapper's console
script: several runs on one ledger, Singer lines in, contact upserts out."""

from __future__ import annotations

from types import SimpleNamespace

from consent_mapper.adapters import activecampaign, autopilot
from consent_mapper.companies import company_values

from .test_mapper_cli import S2A, record, run, schema

MAPPED = {**S2A, "account_field_map": {"Industry": "Industry", "Tier__c": "Customer Tier"}}
A2S = {"direction": "autopilot_to_salesforce"}


def acme(name: str = "Acme", **more: object) -> dict:
    return record("Account", **{"Id": "001A", "IsPersonAccount": False, "Name": name,
                                "Industry": "Energy", "Tier__c": "Gold",
                                "SystemModstamp": "2026-01-01T00:00:00.000Z", **more})


def contact(record_id: str, email: str, account: str | None = "001A", **more: object) -> dict:
    return record("Contact", **{"Id": record_id, "Email": email, "AccountId": account,
                                "LastName": record_id,
                                "SystemModstamp": "2026-01-01T00:00:00.000Z", **more})


def first_load(tmp_path):
    """Two Contacts of Acme and one without an Account; the Account comes after its Contacts,
    as the tap sends it."""
    result = run(MAPPED, [schema("Contact"), contact("003A", "ann@x.io"),
                          contact("003B", "bob@x.io"), contact("003C", "cy@x.io", None),
                          schema("Account"), acme()], tmp_path)
    assert result.returncode == 0, result.stderr
    return result


def read_back(tmp_path, *emails: str) -> None:
    """The Autopilot-to-Salesforce run reads the contacts back: their profiles are confirmed."""
    result = run(A2S, [schema("contacts"), *(
        record("contacts", contact_id=f"person_{e}", Email=e, unsubscribed=False,
               updated_at="2026-01-02T00:00:00.000Z") for e in emails)], tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_contacts_company_is_its_accounts_name_with_the_mapped_fields(tmp_path):
    contacts = first_load(tmp_path).by_email()
    assert contacts["ann@x.io"]["Company"] == "Acme"
    assert contacts["ann@x.io"]["Industry"] == "Energy"  # an Autopilot standard field
    assert contacts["ann@x.io"]["custom_fields"] == {"Customer Tier": "Gold"}
    assert contacts["bob@x.io"]["Company"] == "Acme"
    assert "Company" not in contacts["cy@x.io"]  # no Account, no company
    # a business Account is no person: no contact of its own
    assert set(contacts) == {"ann@x.io", "bob@x.io", "cy@x.io"}


def test_an_account_rename_reaches_every_contact_of_it_and_nobody_else(tmp_path):
    first_load(tmp_path)
    result = run(MAPPED, [schema("Account"),
                          acme("Acme Corp", SystemModstamp="2026-02-01T00:00:00.000Z")], tmp_path)
    assert result.returncode == 0, result.stderr
    contacts = result.by_email()
    assert set(contacts) == {"ann@x.io", "bob@x.io"}
    # only the company fields: nothing about consent, lists or the person's own fields
    assert contacts["ann@x.io"] == {"Email": "ann@x.io", "Company": "Acme Corp",
                                    "Industry": "Energy",
                                    "custom_fields": {"Customer Tier": "Gold"}}
    assert "people given a changed Account's values=2" in result.stderr


def test_an_account_read_again_unchanged_costs_nothing_once_confirmed(tmp_path):
    first_load(tmp_path)
    read_back(tmp_path, "ann@x.io", "bob@x.io", "cy@x.io")
    # its modstamp moved (a system change), its company values did not
    result = run(MAPPED, [schema("Account"),
                          acme(SystemModstamp="2026-02-01T00:00:00.000Z")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.records() == []
    assert result.of("STATE") == []


def test_a_replayed_run_sends_an_unconfirmed_company_again(tmp_path):
    """A run that crashed after deciding lost its writes: the tap reads the Account again, with
    the same values, and its contacts are sent them again (R7)."""
    first_load(tmp_path)
    renamed = [schema("Account"), acme("Acme Corp", SystemModstamp="2026-02-01T00:00:00.000Z")]
    assert set(run(MAPPED, renamed, tmp_path).by_email()) == {"ann@x.io", "bob@x.io"}
    again = run(MAPPED, renamed, tmp_path).by_email()
    assert {e: c["Company"] for e, c in again.items()} == {"ann@x.io": "Acme Corp",
                                                            "bob@x.io": "Acme Corp"}


def test_a_contact_read_without_its_account_gets_the_remembered_values(tmp_path):
    first_load(tmp_path)
    result = run(MAPPED, [schema("Contact"),
                          contact("003A", "ann@x.io", FirstName="Ann",
                                  SystemModstamp="2026-02-01T00:00:00.000Z")], tmp_path)
    ann = result.by_email()["ann@x.io"]
    assert ann["FirstName"] == "Ann" and ann["Company"] == "Acme" and ann["Industry"] == "Energy"


def test_a_contact_that_moved_gets_its_new_account_and_leaves_the_old(tmp_path):
    first_load(tmp_path)
    moved = run(MAPPED, [
        schema("Contact"), contact("003B", "bob@x.io", "001B",
                                   SystemModstamp="2026-02-01T00:00:00.000Z"),
        schema("Account"), record("Account", Id="001B", IsPersonAccount=False, Name="Globex",
                                  SystemModstamp="2026-02-01T00:00:00.000Z")], tmp_path)
    assert moved.by_email()["bob@x.io"]["Company"] == "Globex"
    renamed = run(MAPPED, [schema("Account"),
                           acme("Acme Corp", SystemModstamp="2026-03-01T00:00:00.000Z")],
                  tmp_path)
    assert set(renamed.by_email()) == {"ann@x.io"}


def test_a_deleted_account_removes_no_contact_and_sends_nothing_more(tmp_path):
    first_load(tmp_path)
    gone = run({**MAPPED, "on_exit": "remove"}, [
        schema("Account"), acme(IsDeleted=True, SystemModstamp="2026-02-01T00:00:00.000Z")],
        tmp_path)
    assert gone.returncode == 0, gone.stderr
    assert gone.records() == []  # nobody deleted, nothing sent
    later = run(MAPPED, [schema("Contact"), contact(
        "003A", "ann@x.io", FirstName="Ann", SystemModstamp="2026-03-01T00:00:00.000Z")],
        tmp_path)
    assert "Company" not in later.by_email()["ann@x.io"]


def test_a_newer_lead_company_wins_over_an_older_account_name(tmp_path):
    result = run(MAPPED, [
        schema("Lead"), record("Lead", Id="00QA", Email="ann@x.io", Company="Ann's Startup",
                               SystemModstamp="2026-05-01T00:00:00.000Z"),
        schema("Contact"), contact("003A", "ann@x.io"),
        schema("Account"), acme()], tmp_path)
    ann = result.by_email()["ann@x.io"]
    assert ann["Company"] == "Ann's Startup" and ann["Industry"] == "Energy"  # gaps filled


def test_a_person_account_is_one_contact_with_its_company_half_without_address(tmp_path):
    config = {**S2A, "account_field_map": {"Industry": "Industry", "Note__c": "Note",
                                           "Website": "Website"}}
    result = run(config, [
        schema("Contact"), record("Contact", Id="003P", Email="eve@x.io", AccountId="001P",
                                  IsPersonAccount=True),
        schema("Account"), record(
            "Account", Id="001P", IsPersonAccount=True, Name="Eve Example", FirstName="Eve",
            PersonEmail="Eve@X.io", PersonHasOptedOutOfEmail=True, Industry="Retail",
            Note__c="write to eve@x.io", Website="https://eve.example",
            SystemModstamp="2026-01-01T00:00:00.000Z")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.by_email() == {"eve@x.io": {
        "Email": "eve@x.io", "FirstName": "Eve", "Industry": "Retail",
        "Website": "https://eve.example", "unsubscribed": True,
        "lists": ["Salesforce Contacts"]}}  # no Company, no value holding the address (R9)


def test_company_values_use_each_platforms_company_field():
    row = {"Name": "Acme", "Industry": "Energy", "Empty__c": ""}
    mapping = {"Industry": "Industry", "Empty__c": "Empty"}
    assert company_values(autopilot, row, mapping) == ({"Company": "Acme",
                                                        "Industry": "Energy"}, {})
    assert company_values(activecampaign, row, mapping) == ({"orgname": "Acme"},
                                                            {"Industry": "Energy"})
    person = company_values(autopilot, {**row, "Mail__c": "A@X.io"},
                            {**mapping, "Mail__c": "Mail"}, person_email="a@x.io")
    assert person == ({"Industry": "Energy"}, {})
    assert company_values(SimpleNamespace(COMPANY_FIELD="Company", STANDARD_FIELDS=()),
                          {"Name": None}, {}) == ({}, {})


def test_the_ledger_keeps_companies_per_platform_and_finds_an_accounts_people(ledger_url):
    """On SQLite and PostgreSQL: upserts, forgetting, memberships and the members' query."""
    from consent_mapper.ledger.accounts import AccountLedger, Company
    from consent_mapper.ledger.store import Ledger
    from consent_mapper.rules import CRM, RecordKey, RecordMemory

    ledger = Ledger(ledger_url)
    try:
        with ledger.transaction() as tx:
            for email, contact_id, live in (("ann@x.io", "003A", True), ("bob@x.io", "003B", True),
                                            ("gone@x.io", "003G", False)):
                memory = tx.load([email])[email]
                key = RecordKey(CRM, "salesforce", "Contact", contact_id)
                memory.records[key] = RecordMemory(key, observed=False, live=live)
                memory.profile_confirmed = email == "bob@x.io"
                tx.save(memory)
            tx.flush()
            ap = AccountLedger(tx.c, "autopilot")
            ap.save({"001A": Company({"Company": "Acme"}, {}, "2026-01-01T00:00:00.000Z")})
            ap.save({"001A": Company({"Company": "Acme Corp"}, {"Tier": 1}, "2026-02-01")})
            ap.join({"003A": "001A", "003B": "001A", "003G": "001A", "003X": "001X"})
            ap.join({"003X": None})  # deleted, or no Account any more
        with ledger.transaction() as tx:
            ap, ac = AccountLedger(tx.c, "autopilot"), AccountLedger(tx.c, "activecampaign")
            assert ap.companies(["001A", "001X"]) == {
                "001A": Company({"Company": "Acme Corp"}, {"Tier": 1}, "2026-02-01")}
            assert ac.companies(["001A"]) == {}  # each platform's job reads Accounts itself
            assert sorted(m.email for m in ap.members(["001A"])) == ["ann@x.io", "bob@x.io"]
            assert [m.email for m in ap.members(["001A"], unconfirmed_only=True)] == ["ann@x.io"]
            ap.forget(["001A"])
            assert ap.companies(["001A"]) == {}
    finally:
        ledger.close()
