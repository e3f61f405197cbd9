"""The `consent-mapper` console script as Meltano runs it: Singer lines in, Singer lines out."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .mapper_cli import A2S, S2A, SCRIPT, Run, history, record, run, schema, state


def test_salesforce_streams_become_one_contact_per_person(tmp_path):
    result = run(S2A, [
        schema("Lead"),
        record("Lead", Id="00Q1", Email="Ada@X.io", HasOptedOutOfEmail=True, FirstName="Ada",
               LastName="Lovelace", Company="Engines", Status="Open", Country="Germany",
               Phone="123", LeadSource="Web"),
        record("Lead", Id="00Q2", Email="alan@x.io", HasOptedOutOfEmail=False),
        record("Lead", Id="00Q3", Email="conv@x.io", IsConverted=True),
        schema("Contact"),
        record("Contact", Id="0031", Email=" ADA@x.io", HasOptedOutOfEmail=False,
               MailingCountry="UK"),
        record("Contact", Id="0032", Email="eve@x.io", IsPersonAccount=True,
               HasOptedOutOfEmail=False),
        schema("Account"),
        record("Account", Id="0011", IsPersonAccount=True, Name="Eve Example",
               PersonEmail="Eve@x.io", PersonHasOptedOutOfEmail=True, FirstName="Eve"),
        record("Account", Id="0012", IsPersonAccount=False, Name="Acme Inc"),
    ], tmp_path)

    assert result.returncode == 0, result.stderr
    schemas = result.of("SCHEMA")
    assert [(s["stream"], s["key_properties"]) for s in schemas] == [("contacts", ["Email"])]
    contacts = result.by_email()
    assert list(contacts) == ["ada@x.io", "alan@x.io", "eve@x.io"]  # one record per person
    assert contacts["ada@x.io"] == {
        "Email": "ada@x.io", "FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines",
        "Status": "Open", "MailingCountry": "UK", "Phone": "123", "LeadSource": "Web",
        "unsubscribed": True, "lists": ["Salesforce Contacts", "Salesforce Leads"]}
    # a contact the ledger never saw is never sent a re-subscribe: it may be opted out (R1)
    assert "unsubscribed" not in contacts["alan@x.io"]
    assert contacts["alan@x.io"]["lists"] == ["Salesforce Leads"]
    # the Person Account carries the person, without a company; its mirrored Contact is skipped
    assert contacts["eve@x.io"] == {"Email": "eve@x.io", "FirstName": "Eve",
                                    "unsubscribed": True, "lists": ["Salesforce Contacts"]}
    # first sight of ada: the Lead's opt-out wins over the Contact (R1)
    assert "R1: unknown -> opted out; source salesforce Lead 00Q1" in history(tmp_path, "ada@x.io")
    assert "converted_lead: 1" in result.stderr
    # a business Account is a company now (the Company of its Contacts), not a skipped row
    assert "business_account" not in result.stderr and "business Accounts read=1" in result.stderr
    assert "person_account_contact: 1" in result.stderr


def test_state_is_held_back_until_the_buffered_records_are_emitted(tmp_path):
    result = run(S2A, [
        schema("Lead"),
        record("Lead", Id="00Q1", Email="a@x.io"),
        state(1),
        record("Lead", Id="00Q2", Email="b@x.io"),
        state(2),
        {"type": "ACTIVATE_VERSION", "stream": "Lead", "version": 1},
    ], tmp_path)

    assert result.returncode == 0, result.stderr
    kinds = [(m["type"], m.get("value", {}).get("bookmarks", {}).get("n")) for m in
             result.messages]
    # the ledger commits at the end of the input; only then records, then the latest STATE
    assert kinds == [("SCHEMA", None), ("RECORD", None), ("RECORD", None), ("STATE", 2)]


def test_a_crash_mid_input_emits_no_state_past_unsent_records(tmp_path):
    result = run(S2A, [schema("Lead"), record("Lead", Id="00Q1", Email="a@x.io"), state(1),
                       {"type": "RECORD"}], tmp_path)
    assert result.returncode != 0
    assert result.of("STATE") == []


def test_records_without_a_valid_email_are_reported_and_the_run_succeeds(tmp_path):
    result = run(S2A, [
        schema("Lead"),
        record("Lead", Id="00Q1", LastName="NoMail"),
        record("Lead", Id="00Q2", Email="broken@@x.io"),
        record("Lead", Id="00Q3", Email="ok@x.io"),
    ], tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(result.by_email()) == ["ok@x.io"]
    assert "R10: Lead 00Q2 skipped" in result.stderr and "broken@@x.io" in result.stderr
    summary = [line for line in result.stderr.splitlines() if "skipped invalid_email" in line]
    assert len(summary) == 1 and "00Q2" in summary[0]
    assert "skipped no_email: 1: Lead 00Q1" in result.stderr


def deleted_run(on_exit: str, tmp_path: Path, *live: dict) -> Run:
    first = run(S2A, [schema("Lead"), record("Lead", Id="00Q1", Email="gone@x.io"),
                      record("Lead", Id="00Q2", Email="out@x.io")], tmp_path)
    assert len(first.records()) == 2, first.stderr
    # the contacts are read back: a contact never read is not removed (its opt-out unknown)
    read = run(A2S, [schema("contacts"),
                     record("contacts", contact_id="person_1", Email="gone@x.io"),
                     record("contacts", contact_id="person_2", Email="out@x.io")], tmp_path)
    assert read.returncode == 0, read.stderr
    return run({**S2A, "on_exit": on_exit}, [
        schema("Lead"),
        record("Lead", Id="00Q1", Email="gone@x.io", IsDeleted=True),
        record("Lead", Id="00Q2", Email="out@x.io", in_selection=False),
        *live,
    ], tmp_path)


def test_on_exit_remove_deletes_after_the_next_platform_read_until_known_written(tmp_path):
    result = deleted_run("remove", tmp_path,
                         record("Contact", Id="0031", Email="out@x.io"))
    assert result.returncode == 0, result.stderr
    contacts = result.by_email()
    # an unsubscribe made in Autopilot since its last read would go with the contact: it waits
    assert "gone@x.io" not in contacts
    assert "removal waits for the next read of autopilot" in history(tmp_path, "gone@x.io")
    # a live Contact of the same person was seen: kept, but it leaves the Leads list
    assert "_sdc_deleted_at" not in contacts["out@x.io"]
    assert contacts["out@x.io"]["lists_remove"] == ["Salesforce Leads"]

    waiting = run({**S2A, "on_exit": "remove"}, [schema("Lead"), state(1)], tmp_path)
    assert waiting.records() == [], waiting.stderr  # no read of Autopilot finished since
    assert run(A2S, [schema("contacts")], tmp_path).returncode == 0  # it saw no change
    done = run({**S2A, "on_exit": "remove"}, [schema("Lead"), state(1)], tmp_path)
    assert set(done.by_email()["gone@x.io"]) == {"Email", "_sdc_deleted_at"}, done.stderr

    # the target never wrote that run (its STATE was not stored): the deletion goes again
    lost = run({**S2A, "on_exit": "remove"}, [schema("Lead"), waiting.of("STATE")[0]], tmp_path)
    assert set(lost.by_email()) == {"gone@x.io"}, lost.stderr
    assert "deletion sent again (the run that sent it" in history(tmp_path, "gone@x.io")
    # a later run's input shows the last send written: nothing more, even if an older STATE
    # comes back later (the ledger forgot the deletion's run once it was known written)
    quiet = run({**S2A, "on_exit": "remove"}, [schema("Lead"), lost.of("STATE")[0]], tmp_path)
    assert quiet.records() == [], quiet.stderr
    assert run({**S2A, "on_exit": "remove"}, [schema("Lead"), waiting.of("STATE")[0]],
               tmp_path).records() == []


def test_on_exit_remove_waits_for_a_read_of_a_contact_never_read(tmp_path):
    first = run(S2A, [schema("Lead"), record("Lead", Id="00Q1", Email="gone@x.io")], tmp_path)
    assert len(first.records()) == 1, first.stderr
    exit_ = [schema("Lead"), record("Lead", Id="00Q1", Email="gone@x.io", IsDeleted=True)]
    waits = run({**S2A, "on_exit": "remove"}, exit_, tmp_path)
    assert waits.returncode == 0 and waits.records() == [], waits.stderr
    trail = history(tmp_path, "gone@x.io")
    assert "removal waits" in trail and "(removal waiting for a read of it)" in trail
    # the read finds the opt-out nobody had read: it is kept, then the contact removed
    run(A2S, [schema("contacts"), record("contacts", contact_id="person_1", Email="gone@x.io",
                                          unsubscribed=True)], tmp_path)
    done = run({**S2A, "on_exit": "remove"}, [schema("Lead")], tmp_path)
    assert done.returncode == 0, done.stderr
    assert set(done.by_email()["gone@x.io"]) == {"Email", "_sdc_deleted_at"}
    trail = history(tmp_path, "gone@x.io")
    assert "agreed opted out" in trail and "R4: opted in -> opted out" in trail
    assert "waiting removal done, contact deleted" in trail


def test_on_exit_keep_emits_nothing_for_exits_but_counts_them(tmp_path):
    result = deleted_run("keep", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.records() == []
    assert "kept on exit=2" in result.stderr


def test_field_map_fills_standard_and_custom_fields(tmp_path):
    result = run({**S2A, "field_map": {"Title": "Title", "Tier__c": "Customer Tier"}}, [
        schema("Lead"),
        record("Lead", Id="00Q1", Email="a@x.io", Title="CTO", Tier__c="Gold"),
    ], tmp_path)
    contact = result.by_email()["a@x.io"]
    assert contact["Title"] == "CTO" and contact["custom_fields"] == {"Customer Tier": "Gold"}


def test_a_mapped_field_waits_with_a_held_re_subscribe_and_goes_out_with_it(tmp_path):
    """Chaos trial stop25e 3 for two-way fields: any write to a contact whose re-subscribe is
    held (R4) moves its modstamp past the re-subscribe, and its first read would then show our
    older opt-out as newer. The field's write waits too, and goes out with the re-subscribe."""
    lead = {"type": "SCHEMA", "stream": "Lead", "key_properties": ["Id"], "schema": {
        "type": "object", "properties": {"Id": {"type": "string"},
                                         "Title": {"type": ["string", "null"]}}}}
    fields = {**S2A, "field_map": {"Title": "Title"}}
    created = run(fields, [lead, record("Lead", Id="00Q1", Email="a@x.io", Title="CTO",
                                        HasOptedOutOfEmail=True,
                                        SystemModstamp="2026-12-01T10:00:00.000+0000")],
                  tmp_path)
    assert created.by_email()["a@x.io"]["Title"] == "CTO", created.stderr
    # no read of Autopilot yet: the Lead re-subscribes and its Title changes
    held = run(fields, [lead, record("Lead", Id="00Q1", Email="a@x.io", Title="CEO",
                                     HasOptedOutOfEmail=False,
                                     SystemModstamp="2026-12-01T10:10:00.000+0000")], tmp_path)
    assert held.records() == [], held.stderr
    read = run({**A2S, "field_map": {"Title": "Title"}}, [
        schema("contacts"), record("contacts", contact_id="person_1", Email="a@x.io",
                                   unsubscribed=True, Title="CTO",
                                   updated_at="2026-12-01T10:05:00Z")], tmp_path)
    assert read.returncode == 0 and read.records() == [], read.stderr  # our opt-out, older
    sent = run(fields, [lead], tmp_path)
    assert sent.by_email()["a@x.io"] == {"Email": "a@x.io", "unsubscribed": False,
                                         "Title": "CEO", "_expected": {"Title": "CTO"}}


def test_autopilot_contacts_become_salesforce_opt_outs_per_person(tmp_path):
    result = run(A2S, [
        schema("lists"),
        {"type": "RECORD", "stream": "lists", "record": {"list_id": "l1", "title": "x"}},
        schema("contacts"),
        record("contacts", contact_id="person_1", Email="Dana@X.io", unsubscribed=True),
        record("contacts", contact_id="person_2", Email="pat@x.io", unsubscribed=False,
               hard_bounced=True),
        record("contacts", contact_id="person_3", Email="back@x.io", unsubscribed=False),
        record("contacts", contact_id="person_4", Email="bad@"),
        state(1),
    ], tmp_path)

    assert result.returncode == 0, result.stderr
    assert [(s["stream"], s["key_properties"]) for s in result.of("SCHEMA")] == [
        ("Lead", []), ("Contact", []), ("Account", [])]
    # the ledger knows no Salesforce record of these people: written by match on the address;
    # a first-seen subscribed contact re-subscribes nobody (R1)
    assert result.by_email("Lead") == {
        "dana@x.io": {"Email": "dana@x.io", "HasOptedOutOfEmail": True},
        "pat@x.io": {"Email": "pat@x.io", "HasOptedOutOfEmail": True}}
    assert result.by_email("Contact") == result.by_email("Lead")
    assert result.by_email("Account", "PersonEmail")["pat@x.io"] == {
        "PersonEmail": "pat@x.io", "PersonHasOptedOutOfEmail": True}
    # the tap's STATE last, with the run's mark beside its bookmarks (run_marks.py)
    assert result.messages[-1]["type"] == "STATE"
    assert result.messages[-1]["value"]["bookmarks"]["n"] == 1
    assert set(result.messages[-1]["value"]["bookmarks"]) == {"n", "consent_mapper"}
    assert "person_4" in result.stderr and "bad@" in result.stderr


def test_bounce_is_not_an_opt_out_when_switched_off(tmp_path):
    result = run({**A2S, "bounce_is_opt_out": False}, [
        schema("contacts"),
        record("contacts", contact_id="person_2", Email="pat@x.io", unsubscribed=False,
               hard_bounced=True),
    ], tmp_path)
    assert result.records() == []  # a subscribed, bounced contact says nothing


def test_dry_run_logs_decisions_and_emits_no_records_and_no_state(tmp_path):
    result = run({**S2A, "dry_run": True}, [
        schema("Lead"),
        record("Lead", Id="00Q1", Email="a@x.io", HasOptedOutOfEmail=True), state(1),
    ], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.of("RECORD") == [] and result.of("STATE") == []
    assert "dry run: would send contacts" in result.stderr and "a@x.io" in result.stderr


@pytest.mark.parametrize(("config", "named"), [
    ({}, "direction"),
    ({"direction": "sideways"}, "direction"),
    ({**S2A, "on_exit": "forget"}, "on_exit"),
    ({**S2A, "field_map": {"Foo__c": "unsubscribed"}}, "unsubscribed"),
    ({**S2A, "account_field_map": {"PersonEmail": "Billing Email"}}, "R9"),
])
def test_bad_settings_stop_the_run_naming_the_setting(config, named, tmp_path):
    result = run(config, [], tmp_path)
    assert result.returncode != 0
    assert named in result.stderr and "Config validation failed" in result.stderr


def test_about_lists_every_setting(tmp_path):
    proc = subprocess.run([str(SCRIPT), "--about", "--format=json"], capture_output=True,
                          text=True, timeout=60, check=True)
    settings = json.loads(proc.stdout)["settings"]["properties"]
    assert set(settings) == {"direction", "on_exit", "bounce_is_opt_out", "lead_list",
                             "contact_list", "field_map", "account_field_map", "dry_run",
                             "ledger_url", "retry_after_runs", "create_records",
                             "create_owner_id", "create_company_placeholder", "activities",
                             "activity_types", "activity_key_field"}


def test_every_autopilot_spelling_of_an_address_gets_the_opt_out(tmp_path):
    """An IDN domain in Unicode and in punycode are two Autopilot contacts of one person (R5)."""
    seen = run(A2S, [
        schema("contacts"),
        record("contacts", contact_id="person_1", Email="dana@xn--mnchen-3ya.example",
               unsubscribed=False),
        record("contacts", contact_id="person_2", Email="Dana@München.example",
               unsubscribed=False),
    ], tmp_path)
    assert seen.returncode == 0 and seen.records() == [], seen.stderr

    result = run(S2A, [schema("Lead"),
                       record("Lead", Id="00Q1", Email="DANA@münchen.example",
                              HasOptedOutOfEmail=True, LastName="Dana")], tmp_path)
    assert result.returncode == 0, result.stderr
    sent = {r["Email"]: r.get("unsubscribed") for r in result.records("contacts")}
    # both contacts Autopilot holds are written, and no third one (no new spelling) is created
    assert sent == {"dana@xn--mnchen-3ya.example": True, "Dana@München.example": True}
