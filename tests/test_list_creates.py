"""Contacts added to "Salesforce Leads" / "Salesforce Contacts" in Autopilot become exactly one
Salesforce record each, born with the person's consent, through real `meltano run`.

One sandbox and ledger for the module; the tests run in order, each a step of one history.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

from consent_sandbox.testing import running_sandbox

from .conftest import SANDBOX_ARGS, Systems, project

# one history in steps over a module-scoped world: every step on one worker, in order
pytestmark = pytest.mark.xdist_group("list-creates")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("list-creates")
    with running_sandbox(folder / "sandbox", *SANDBOX_ARGS) as sandbox:
        systems = Systems(sandbox, project(sandbox, folder))
        systems.add("Contact", {"LastName": "Known", "Email": "Known@x.io"})
        systems.ap_add(
            {"Email": "Nia@x.io", "FirstName": "Nia", "LastName": "Ode", "Company": "Acme",
             "Phone": "555-0100", "MailingCountry": "Kenya", "lists": ["Salesforce Leads"]},
            {"Email": "out@x.io", "unsubscribed": True, "lists": ["Salesforce Leads"]},
            {"Email": "known@x.io", "lists": ["Salesforce Leads"]},
            {"Email": "cy@x.io", "FirstName": "Cy", "LastName": "Press"},
            {"Email": "fail@x.io", "LastName": "Fail"})
        yield systems


def records(world: Systems, sobject: str, email: str) -> list[dict]:
    return [r for r in world.sandbox.admin("salesforce", "GET", f"/records/{sobject}").json()
            if (r.get("Email") or "").lower() == email and not r.get("IsDeleted")]


def add_to_list(world: Systems, title: str, email: str) -> None:
    """As Autopilot's API adds a contact to a list (the list's id from GET /lists)."""
    endpoint = world.sandbox.endpoints["autopilot"]
    headers = {"autopilotapikey": endpoint["api_key"]}
    lists = requests.get(f"{endpoint['base_url']}/lists", headers=headers,
                         verify=world.sandbox.ca_bundle, timeout=60).json()["lists"]
    list_id = next((row["list_id"] for row in lists if row["title"] == title), None)
    if list_id is None:
        list_id = requests.post(f"{endpoint['base_url']}/list", headers=headers,
                                json={"name": title}, verify=world.sandbox.ca_bundle,
                                timeout=60).json()["list_id"]
    requests.post(f"{endpoint['base_url']}/list/{list_id}/contact/{email}", headers=headers,
                  verify=world.sandbox.ca_bundle, timeout=60).raise_for_status()


def test_1_a_contact_added_to_salesforce_leads_becomes_exactly_one_lead(world):
    world.meltano.run("consent-sync")
    [lead] = records(world, "Lead", "nia@x.io")
    assert (lead["Email"], lead["FirstName"], lead["LastName"], lead["Company"], lead["Phone"],
            lead["Country"], lead["HasOptedOutOfEmail"], lead["OwnerId"]) == (
        "Nia@x.io", "Nia", "Ode", "Acme", "555-0100", "Kenya", False, "005Sb0000000001AAA")
    assert "a Lead is created opted in" in world.history("nia@x.io")


def test_2_an_opted_out_address_is_born_opted_out(world):
    [lead] = records(world, "Lead", "out@x.io")
    assert lead["HasOptedOutOfEmail"] is True
    assert (lead["LastName"], lead["Company"]) == ("out", "[not provided]")


def test_3_an_address_with_a_salesforce_record_gets_no_lead(world):
    assert records(world, "Lead", "known@x.io") == []
    assert len(records(world, "Contact", "known@x.io")) == 1


def test_4_a_replayed_read_of_the_same_contacts_creates_nothing_again(world):
    # the tap reads every contact again, as after a crash before its state moved; the
    # Salesforce read that would link the new Leads has not happened yet
    world.reset_counters()
    replay = world.meltano.run("--full-refresh", "autopilot-to-salesforce")
    assert "Lead: 2 records to create already exist" in replay.stderr
    assert len(records(world, "Lead", "nia@x.io")) == 1
    assert len(records(world, "Lead", "out@x.io")) == 1
    assert world.writes()["salesforce"] == 0


def test_5_a_contact_added_to_salesforce_contacts_becomes_a_contact_despite_a_failed_run(world):
    add_to_list(world, "Salesforce Contacts", "cy@x.io")
    add_to_list(world, "Salesforce Leads", "fail@x.io")
    # fail@x.io is refused once: the run fails after cy@x.io's Contact was created, its state
    # does not move, and the next run reads both contacts again
    world.sandbox.admin("salesforce", "POST", "/record-failures", json={
        "field": "Email", "values": ["fail@x.io"], "times": 1,
        "error_code": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Try again later"})
    failed = world.meltano.run("autopilot-to-salesforce", check=False)
    assert failed.returncode != 0
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in failed.stderr
    assert len(records(world, "Contact", "cy@x.io")) == 1
    world.meltano.run("autopilot-to-salesforce")
    [contact] = records(world, "Contact", "cy@x.io")
    assert (contact["FirstName"], contact["LastName"], contact["AccountId"]) == (
        "Cy", "Press", None)
    assert records(world, "Lead", "cy@x.io") == []
    assert len(records(world, "Lead", "fail@x.io")) == 1


def test_6_the_created_records_are_synced_like_any_other_and_a_quiet_run_writes_nothing(world):
    world.meltano.run("consent-sync")  # Salesforce read: the new records join the ledger
    world.meltano.run("consent-sync")
    world.reset_counters()
    world.meltano.run("consent-sync")
    assert world.writes() == {"salesforce": 0, "platform": 0}
    contacts = world.ap()
    # the create's stand-ins never reached Autopilot
    assert contacts["out@x.io"].get("Company") in (None, "")
    assert contacts["out@x.io"].get("LastName") in (None, "")
    for email in ("nia@x.io", "out@x.io", "fail@x.io"):
        assert len(records(world, "Lead", email)) == 1
    # the created Lead is a record like any other: an opt-out made on it reaches Autopilot
    [lead] = records(world, "Lead", "nia@x.io")
    world.edit("Lead", lead["Id"], HasOptedOutOfEmail=True)
    world.meltano.run("consent-sync")
    assert world.ap()["nia@x.io"]["unsubscribed"] is True


def test_7_a_run_killed_while_creating_leaves_exactly_one_lead_per_address(world):
    world.ap_add(*({"Email": f"k{n}@x.io", "LastName": f"K{n}", "unsubscribed": n % 3 == 0,
                    "lists": ["Salesforce Leads"]} for n in range(450)))
    world.reset_counters()
    meltano = world.meltano
    process = subprocess.Popen([str(meltano.meltano), "run", "consent-sync"],
                               cwd=meltano.project_root, env=meltano.env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while world.writes()["salesforce"] == 0 and process.poll() is None:
            assert time.monotonic() < deadline, "the run never wrote to Salesforce"
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # mid-create: the whole `meltano run`
        process.wait()
    for _ in range(2):  # the schedule's runs start on their own (README: MELTANO_RUN_FORCE)
        meltano.schedule_run("consent-sync-every-10-minutes")
    leads = world.sandbox.admin("salesforce", "GET", "/records/Lead").json()
    by_address: dict[str, list[dict]] = {}
    for lead in leads:
        by_address.setdefault(lead["Email"].lower(), []).append(lead)
    assert all(len(by_address[f"k{n}@x.io"]) == 1 for n in range(450))
    assert all(by_address[f"k{n}@x.io"][0]["HasOptedOutOfEmail"] is (n % 3 == 0)
               for n in range(450))
