"""The scenarios of CONSENT-RULES, each through real `meltano run consent-sync` on the sandbox.

Scenarios whose addresses cannot meet share one sandbox and ledger (the `world` below): each has
its own people, set up from empty systems, changed between the same runs, and asserted on its own.
That keeps the suite fast; scenarios that change the whole world (9 counts every write call, 10
injects faults, the dry run writes nothing) get a sandbox of their own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

import pytest

from consent_sandbox.testing import MeltanoProject, running_sandbox

from .conftest import ROOT, Systems

JOB = "consent-sync"
world_tests = pytest.mark.xdist_group("consent-world")


@dataclass
class World:
    systems: Systems
    ids: dict[str, str] = field(default_factory=dict)
    seen: dict[str, object] = field(default_factory=dict)  # snapshots between runs
    outputs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    with running_sandbox(folder / "sandbox", "--autopilot-rate-limit", "50") as sandbox:
        meltano = MeltanoProject(sandbox, folder, ROOT)
        meltano.extra_env["CONSENT_MAPPER_ON_EXIT"] = "remove"  # scenario 7
        meltano.extra_env["TAP_SALESFORCE_OPTOUT_SELECTION"] = json.dumps(  # scenario 14
            {"Lead": [{"field": "LeadSource", "operator": "not_equals", "value": "Partner"}]})
        w = World(Systems(sandbox, meltano))
        s = w.systems
        # before
        s.add("Lead", {"LastName": "A", "Company": "C", "Email": "a@x.io"})  # 1
        s.ap_add({"Email": "a@x.io", "unsubscribed": True})
        s.add("Lead", {"LastName": "B", "Company": "C", "Email": "b@x.io",  # 2
                       "HasOptedOutOfEmail": True})
        s.ap_add({"Email": "b@x.io", "unsubscribed": False})
        s.add("Lead", {"LastName": "R", "Company": "C", "Email": "r@x.io",  # 3
                       "HasOptedOutOfEmail": True})
        s.add("Lead", {"LastName": "L", "Company": "C", "Email": "c@x.io"})  # 4
        (w.ids["c-contact"],) = s.add("Contact", {"LastName": "K", "Email": "C@x.io"})
        s.add("Lead", {"LastName": "D", "Company": "C", "Email": "d@x.io",  # 5
                       "HasOptedOutOfEmail": True})
        s.add("Lead", {"LastName": "H", "Company": "C", "Email": "h@x.io"})  # 6
        (w.ids["e7"],) = s.add("Lead", {"LastName": "E", "Company": "C",  # 7
                                        "Email": "e7@x.io", "HasOptedOutOfEmail": True})
        s.add("Account", {"FirstName": "Eve", "LastName": "Person",  # 8
                          "PersonEmail": "e@x.io", "PersonHasOptedOutOfEmail": True})
        s.add("Lead", {"LastName": "NoMail", "Company": "C"})  # 11
        s.ap_add({"Email": "broken@@x.io", "unsubscribed": True})
        (w.ids["conv-lead"],) = s.add("Lead", {"LastName": "Conv", "Company": "C",  # conversion
                                               "Email": "lead@x.io", "HasOptedOutOfEmail": True})
        (w.ids["conv-contact"],) = s.add("Contact", {"LastName": "Conv",
                                                     "Email": "contact@x.io"})
        (w.ids["a13"],) = s.add("Lead", {"LastName": "Gone", "Company": "C",  # 13
                                         "Email": "a13@x.io", "HasOptedOutOfEmail": True})
        s.delete("Lead", w.ids["a13"])
        s.ap_add({"Email": "a13@x.io", "unsubscribed": False})
        (w.ids["f14-in"], w.ids["f14-out"]) = s.add(  # 14
            "Lead", {"LastName": "F", "Company": "C", "Email": "f14@x.io"},
            {"LastName": "F2", "Company": "C", "Email": "f14@x.io", "LeadSource": "Partner"})
        w.outputs.append(_run(meltano))
        w.seen["after-first"] = {e: s.crm(e) for e in ("c@x.io", "contact@x.io", "f14@x.io")}
        # changes between runs
        s.ap_edit("r@x.io", unsubscribed=False)  # 3
        s.edit("Contact", w.ids["c-contact"], HasOptedOutOfEmail=True)  # 4
        (w.ids["d-new"],) = s.add("Lead", {"LastName": "D2", "Company": "Web form",  # 5
                                           "Email": "D@X.io"})
        sandbox.admin("autopilot", "POST", "/contacts/h@x.io/hardbounce")  # 6
        s.ap_edit("f14@x.io", unsubscribed=True)  # 14
        s.delete("Lead", w.ids["e7"])  # 7
        sandbox.admin("salesforce", "POST", "/convert-lead", json={  # conversion
            "lead_id": w.ids["conv-lead"], "contact_id": w.ids["conv-contact"]})
        w.outputs.append(_run(meltano))
        w.seen["e7-after-delete"] = "e7@x.io" in s.ap()
        (w.ids["e7-again"],) = s.add("Lead", {"LastName": "E", "Company": "C",  # 7
                                              "Email": "e7@x.io"})
        w.outputs.append(_run(meltano))
        yield w


def _run(meltano: MeltanoProject) -> str:
    result = meltano.run(JOB)
    return result.stdout + result.stderr


@world_tests
def test_1_lead_in_and_contact_out_end_both_out(world):
    assert set(world.systems.crm("a@x.io").values()) == {True}
    assert world.systems.ap()["a@x.io"]["unsubscribed"] is True
    assert "R1" in world.systems.history("a@x.io")


@world_tests
def test_2_lead_out_and_contact_in_end_both_out(world):
    assert set(world.systems.crm("b@x.io").values()) == {True}
    assert world.systems.ap()["b@x.io"]["unsubscribed"] is True
    assert "R1: unknown -> opted out" in world.systems.history("b@x.io")


@world_tests
def test_3_a_resubscribe_in_autopilot_reaches_the_lead(world):
    assert set(world.systems.crm("r@x.io").values()) == {False}
    assert world.systems.ap()["r@x.io"]["unsubscribed"] is False
    assert "R2: opted out -> opted in" in world.systems.history("r@x.io")


@world_tests
def test_4_an_opt_out_on_a_contact_reaches_autopilot_and_the_duplicate_lead(world):
    assert set(world.seen["after-first"]["c@x.io"].values()) == {False}
    assert set(world.systems.crm("c@x.io").values()) == {True}
    assert len(world.systems.crm("c@x.io")) == 2
    assert world.systems.ap()["c@x.io"]["unsubscribed"] is True
    assert "R2: opted in -> opted out" in world.systems.history("c@x.io")


@world_tests
def test_5_a_new_unchecked_lead_of_an_opted_out_address_is_born_opted_out(world):
    assert world.systems.crm("d@x.io")[f"Lead {world.ids['d-new']}"] is True
    assert world.systems.ap()["d@x.io"]["unsubscribed"] is True


@world_tests
def test_6_a_hard_bounce_opts_the_lead_out(world):
    assert set(world.systems.crm("h@x.io").values()) == {True}


@world_tests
def test_7_a_lead_recreated_after_removal_is_born_opted_out_in_both(world):
    assert world.seen["e7-after-delete"] is False  # on_exit=remove took the contact away
    assert world.systems.ap()["e7@x.io"]["unsubscribed"] is True
    assert world.systems.crm("e7@x.io") == {f"Lead {world.ids['e7-again']}": True}


@world_tests
def test_8_a_person_account_is_one_contact_without_a_company(world):
    contact = world.systems.ap()["e@x.io"]
    assert contact["unsubscribed"] is True and not contact.get("Company")
    assert [e for e in world.systems.ap() if e.startswith("e@")] == ["e@x.io"]


@world_tests
def test_6_the_audit_trail_names_the_bounce_and_its_setting(world):
    history = world.systems.history("h@x.io")
    assert "hard bounce" in history and "bounce_is_opt_out" in history
    assert "opt-out made in" not in history


@world_tests
def test_13_an_opt_out_seen_only_on_a_deleted_lead_reaches_autopilot(world):
    assert world.systems.ap()["a13@x.io"]["unsubscribed"] is True
    assert "already deleted" in world.systems.history("a13@x.io")
    assert "a13@x.io" not in world.systems.ledger("pending")  # no write left unconfirmed


@world_tests
def test_14_an_opt_out_reaches_leads_outside_the_selection_too(world):
    assert world.seen["after-first"]["f14@x.io"] == {
        f"Lead {world.ids['f14-in']}": False, f"Lead {world.ids['f14-out']}": False}
    assert world.systems.crm("f14@x.io") == {
        f"Lead {world.ids['f14-in']}": True, f"Lead {world.ids['f14-out']}": True}


@world_tests
def test_first_sight_opt_outs_are_counted_and_last_run_shows_each_direction(world):
    first = world.outputs[0]
    line = next(li for li in first.splitlines()
                if "summary salesforce_to_autopilot: people seen" in li)
    propagated = int(line.split("opt-outs propagated=")[1].split(",")[0])
    assert propagated >= 5  # a, b, r, d, e7, e, lead@ are opted out at first sight
    last = world.systems.ledger("last-run")
    assert "salesforce_to_autopilot" in last and "autopilot_to_salesforce" in last
    assert len([li for li in last.splitlines() if li.startswith("run ")]) == 2


@world_tests
def test_11_records_without_a_valid_address_are_skipped_and_reported(world):
    first = world.outputs[0]
    assert "skipped no_email: 1" in first and "broken@@x.io" in first


@world_tests
def test_a_converted_leads_opt_out_reaches_the_existing_contact_it_became(world):
    contact = world.ids["conv-contact"]
    assert world.seen["after-first"]["contact@x.io"] == {f"Contact {contact}": False}
    # converted into the existing, opted-in Contact; Salesforce did not carry the opt-out
    assert world.systems.crm("contact@x.io") == {f"Contact {contact}": True}
    assert world.systems.ap()["contact@x.io"]["unsubscribed"] is True


def test_9_a_run_after_which_nobody_changed_anything_writes_nothing(systems, meltano):
    systems.add("Lead", {"LastName": "Q", "Company": "C", "Email": "q@x.io"},
                {"LastName": "Q2", "Company": "C", "Email": "q2@x.io",
                 "HasOptedOutOfEmail": True})
    systems.ap_add({"Email": "q3@x.io", "unsubscribed": False})
    meltano.run(JOB)
    meltano.run(JOB)  # reads back what the first run wrote
    systems.reset_counters()
    meltano.run(JOB)
    assert systems.writes() == {"salesforce": 0, "autopilot": 0}


def test_10_a_failing_crm_write_is_retried_until_it_lands(systems, meltano):
    systems.add("Lead", {"LastName": "F", "Company": "C", "Email": "f@x.io"})
    meltano.run(JOB)
    systems.ap_edit("f@x.io", unsubscribed=True)
    systems.sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 503, "count": 3, "method": "PATCH", "endpoint": "composite/sobjects"})
    meltano.extra_env["TARGET_SALESFORCE_MAX_RETRIES"] = "1"
    failed = meltano.run(JOB, check=False)  # two attempts, both refused: the run fails
    assert failed.returncode != 0
    assert set(systems.crm("f@x.io").values()) == {False}
    meltano.run(JOB)  # the third attempt is refused, the fourth lands
    assert set(systems.crm("f@x.io").values()) == {True}
    assert "R7" in systems.history("f@x.io") or "R5" in systems.history("f@x.io")


def test_dry_run_decides_everything_and_writes_nothing(systems, meltano):
    systems.add("Lead", {"LastName": "Y", "Company": "C", "Email": "y@x.io",
                         "HasOptedOutOfEmail": True})
    systems.reset_counters()
    meltano.extra_env["CONSENT_MAPPER_DRY_RUN"] = "true"
    result = meltano.run(JOB)
    assert systems.writes() == {"salesforce": 0, "autopilot": 0}
    assert "dry run: decision R1: person=y@x.io" in result.stderr
    assert "no decisions recorded" in systems.history("y@x.io")
    meltano.extra_env["CONSENT_MAPPER_DRY_RUN"] = "false"
    meltano.run(JOB)  # a dry run moved no bookmark: the real run still sees the Lead
    assert systems.ap()["y@x.io"]["unsubscribed"] is True


def test_12_a_resubscribe_survives_one_failed_crm_write(systems, meltano):
    systems.add("Lead", {"LastName": "Z", "Company": "C", "Email": "z@x.io"})
    systems.ap_add({"Email": "z@x.io", "unsubscribed": True})
    meltano.run("autopilot-to-salesforce")  # the Lead is written opted out, by its address
    assert set(systems.crm("z@x.io").values()) == {True}
    systems.ap_edit("z@x.io", unsubscribed=False)
    systems.sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 503, "count": 1, "method": "PATCH", "endpoint": "composite/sobjects"})
    meltano.extra_env["TARGET_SALESFORCE_MAX_RETRIES"] = "0"
    assert meltano.run(JOB, check=False).returncode != 0  # the re-subscribe's write failed
    del meltano.extra_env["TARGET_SALESFORCE_MAX_RETRIES"]
    meltano.run(JOB)
    meltano.run(JOB)
    # our own older opt-out, read back from the Lead, is not a new opt-out made in Salesforce
    assert set(systems.crm("z@x.io").values()) == {False}
    assert systems.ap()["z@x.io"]["unsubscribed"] is False
    assert "R2: opted out -> opted in" in systems.history("z@x.io")


def test_15_a_run_killed_mid_write_does_not_stop_the_next_scheduled_run(systems, meltano):
    systems.add("Lead", *({"LastName": f"K{n}", "Company": "C", "Email": f"k{n}@x.io",
                           "HasOptedOutOfEmail": n % 3 == 0} for n in range(450)))
    process = subprocess.Popen([str(meltano.meltano), "run", JOB], cwd=meltano.project_root,
                               env=meltano.env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while systems.writes()["autopilot"] == 0 and process.poll() is None:
            assert time.monotonic() < deadline, "the run never wrote to Autopilot"
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # mid-write: the whole `meltano run`
        process.wait()
    # the next scheduled run starts on its own, and plain runs end as an undisturbed one would
    meltano.schedule_run("consent-sync-every-10-minutes")
    meltano.run(JOB)
    meltano.run(JOB)
    contacts = systems.ap()
    assert len([e for e in contacts if e.startswith("k")]) == 450
    assert all(contacts[f"k{n}@x.io"]["unsubscribed"] is (n % 3 == 0) for n in range(450))
    systems.reset_counters()
    meltano.run(JOB)
    assert systems.writes() == {"salesforce": 0, "autopilot": 0}
