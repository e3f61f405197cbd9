"""Contacts in the "Salesforce Leads" / "Salesforce Contacts" lists become Salesforce records."""

from __future__ import annotations

from consent_mapper.list_creates import CreatePolicy, without_placeholders

from .test_mapper_cli import A2S, S2A, record, run, schema, state

LEADS, CONTACTS = ["Salesforce Leads"], ["Salesforce Contacts"]


def contact(n: int, email: str, titles: list[str], **fields: object) -> dict:
    return record("contacts", contact_id=f"person_{n}", Email=email, list_titles=titles,
                  lists=[f"contactlist_{t[11:]}" for t in titles],
                  updated_at=f"2026-01-01T00:00:0{n}Z", **fields)


def creates(result) -> dict[str, dict]:
    return {f"{m['stream']} {m['record']['Email']}": m["record"] for m in result.of("RECORD")
            if m["record"].get("_create")}


def test_a_contact_in_the_lead_list_becomes_a_lead_born_with_its_consent(tmp_path):
    result = run(A2S, [
        schema("contacts"),
        contact(1, "Nia@X.io", LEADS, FirstName="Nia", LastName="Ode", Company="Acme",
                Phone="555", MailingCountry="Kenya", LeadSource="Web", Status="Hot"),
        contact(2, "out@x.io", LEADS, unsubscribed=True),
        contact(3, "both@x.io", [*CONTACTS, *LEADS], LastName="Both"),
        contact(4, "c@x.io", CONTACTS, FirstName="Cy"),
        contact(5, "none@x.io", ["Newsletter"]),
        state(1)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert creates(result) == {
        "Lead Nia@X.io": {"Email": "Nia@X.io", "FirstName": "Nia", "LastName": "Ode",
                          "Company": "Acme", "Phone": "555", "Country": "Kenya",
                          "LeadSource": "Web", "HasOptedOutOfEmail": False, "_create": True},
        # no Company, no LastName: Salesforce requires both on a Lead
        "Lead out@x.io": {"Email": "out@x.io", "LastName": "out", "Company": "[not provided]",
                          "HasOptedOutOfEmail": True, "_create": True},
        "Lead both@x.io": {"Email": "both@x.io", "LastName": "Both",
                           "Company": "[not provided]", "HasOptedOutOfEmail": False,
                           "_create": True},
        "Contact c@x.io": {"Email": "c@x.io", "FirstName": "Cy", "LastName": "c",
                           "HasOptedOutOfEmail": False, "_create": True}}
    lead_schema = next(m for m in result.of("SCHEMA") if m["stream"] == "Lead")
    assert {"_create", "Company", "Country", "OwnerId"} <= set(lead_schema["schema"]
                                                               ["properties"])
    assert "a Lead is created opted out" in _history(tmp_path, "out@x.io")


def _history(tmp_path, email: str) -> str:
    from .test_mapper_cli import history

    return history(tmp_path, email)


def test_no_create_for_a_person_with_a_salesforce_record_and_owner_setting(tmp_path):
    crm = run(S2A, [schema("Lead"), record("Lead", Id="00Q1", Email="known@x.io",
                                           HasOptedOutOfEmail=False, LastName="K",
                                           SystemModstamp="2026-01-01T00:00:00Z"),
                    state(1)], tmp_path)
    assert crm.returncode == 0, crm.stderr
    result = run({**A2S, "create_owner_id": "005Sb0000000002AAA", "create_records": True}, [
        schema("contacts"), contact(1, "known@x.io", CONTACTS),
        contact(2, "new@x.io", CONTACTS), state(2)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(creates(result)) == ["Contact new@x.io"]
    assert creates(result)["Contact new@x.io"]["OwnerId"] == "005Sb0000000002AAA"
    by_id = run({**A2S, "contact_list": "contactlist_77"}, [
        schema("contacts"), record("contacts", contact_id="person_7", Email="id@x.io",
                                   lists=["contactlist_77"]), state(3)], tmp_path)
    assert list(creates(by_id)) == ["Contact id@x.io"]
    off = run({**A2S, "create_records": False}, [
        schema("contacts"), contact(3, "other@x.io", LEADS), state(3)], tmp_path)
    assert creates(off) == {}


def test_the_created_lead_read_back_is_the_same_person_and_changes_nothing(tmp_path):
    first = run(A2S, [schema("contacts"), contact(1, "out@x.io", LEADS, unsubscribed=True),
                      state(1)], tmp_path)
    assert list(creates(first)) == ["Lead out@x.io"]
    # the next Salesforce read sees the Lead born opted out: no write to Autopilot's consent
    back = run(S2A, [schema("Lead"), record(
        "Lead", Id="00Q9", Email="out@x.io", HasOptedOutOfEmail=True, LastName="out",
        Company="[not provided]", SystemModstamp="2026-01-02T00:00:00Z"), state(2)], tmp_path)
    assert back.returncode == 0, back.stderr
    sent = back.by_email()
    assert "unsubscribed" not in sent.get("out@x.io", {})
    # the stand-ins of the create never overwrite the contact's fields
    assert "Company" not in sent["out@x.io"] and "LastName" not in sent["out@x.io"]
    again = run(A2S, [schema("contacts"), contact(1, "out@x.io", LEADS, unsubscribed=True),
                      state(3)], tmp_path)
    assert creates(again) == {} and again.records() == []


def test_placeholders_are_dropped_only_when_they_are_the_stand_ins():
    policy = CreatePolicy("Salesforce Leads", "Salesforce Contacts")
    row = {"Email": "dana@x.io"}
    assert without_placeholders("Lead", row, {"Company": "[not provided]", "LastName": "dana",
                                              "FirstName": "D"}, policy) == {"FirstName": "D"}
    assert without_placeholders("Lead", row, {"Company": "Acme", "LastName": "Dana"},
                                policy) == {"Company": "Acme", "LastName": "Dana"}


def test_a_contact_the_sync_put_in_the_list_is_never_created_back(tmp_path):
    """The Lead's address was edited in Salesforce: its old contact stays in the list."""
    lead = {"Id": "00Q1", "HasOptedOutOfEmail": False, "LastName": "Moved"}
    run(S2A, [schema("Lead"), record("Lead", Email="old@x.io", **lead,
                                     SystemModstamp="2026-01-01T00:00:00Z"), state(1)], tmp_path)
    run(S2A, [schema("Lead"), record("Lead", Email="new@x.io", **lead,
                                     SystemModstamp="2026-01-02T00:00:00Z"), state(2)], tmp_path)
    result = run(A2S, [schema("contacts"), contact(1, "old@x.io", LEADS), state(3)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert creates(result) == {}
