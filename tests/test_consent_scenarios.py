"""The scenarios of CONSENT-RULES, through real `meltano run` on the sandbox, for each platform.

Scenarios whose addresses cannot meet share one sandbox and ledger per platform (the `world`
below): each has its own people, set up from empty systems, changed between the same runs, and
asserted on its own. That keeps the suite fast; scenarios that change the whole world (10 and 12
inject faults, 9 then counts every write call, 15 kills a run, the dry run writes nothing) get a
sandbox of their own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import pytest

from consent_sandbox.testing import running_sandbox

from .conftest import PLATFORMS, SANDBOX_ARGS, Systems, postgres_database, project, team_mode

PLATFORM_NAMES = list(PLATFORMS)
# one world per platform, each in its own worker; "autopilot-postgres" is team mode: the ledger,
# Meltano's system database and state on PostgreSQL (skipped without a server: .ci/postgres.sh);
# "autopilot-bulk" reads and writes Salesforce through Bulk API 2.0 only (bulk_threshold=1)
WORLDS = [pytest.param(name, marks=pytest.mark.xdist_group(f"world-{name}"))
          for name in [*PLATFORM_NAMES, "autopilot-postgres", "autopilot-bulk"]]


@dataclass
class World:
    systems: Systems
    ids: dict[str, str] = field(default_factory=dict)
    seen: dict[str, object] = field(default_factory=dict)  # snapshots between runs
    outputs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module", params=WORLDS)
def world(request, tmp_path_factory):
    platform, _, backend = request.param.partition("-")
    folder = tmp_path_factory.mktemp(f"world-{request.param}")
    with (postgres_database() if backend == "postgres" else nullcontext()) as database, \
            running_sandbox(folder / "sandbox", *SANDBOX_ARGS) as sandbox:
        meltano = project(sandbox, folder)
        if database:
            team_mode(meltano, database)
        if backend == "bulk":
            meltano.extra_env["TAP_SALESFORCE_OPTOUT_BULK_THRESHOLD"] = "1"
            meltano.extra_env["TARGET_SALESFORCE_BULK_THRESHOLD"] = "1"
            # the tap reads its first page over REST and the rest in a Bulk job: more Leads
            # than one page of the smallest size Salesforce allows
            meltano.extra_env["TAP_SALESFORCE_OPTOUT_PAGE_SIZE"] = "200"
            sandbox.admin("salesforce", "POST", "/records/Lead", json=[
                {"LastName": f"Fill {n}", "Company": "C", "Email": f"fill{n}@x.io"}
                for n in range(250)])
        meltano.extra_env["CONSENT_MAPPER_ON_EXIT"] = "remove"  # scenario 7
        meltano.extra_env["TAP_SALESFORCE_OPTOUT_SELECTION"] = json.dumps(  # scenario 14
            {"Lead": [{"field": "LeadSource", "operator": "not_equals", "value": "Partner"}]})
        w = World(Systems(sandbox, meltano, platform))
        s, pf = w.systems, w.systems.platform
        job = pf.sync_job
        # before
        s.add("Lead", {"LastName": "A", "Company": "C", "Email": "a@x.io"})  # 1
        pf.add({"Email": "a@x.io", "unsubscribed": True})
        s.add("Lead", {"LastName": "B", "Company": "C", "Email": "b@x.io",  # 2
                       "HasOptedOutOfEmail": True})
        pf.add({"Email": "b@x.io", "unsubscribed": False})
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
        pf.add({"Email": "broken@@x.io", "unsubscribed": True})
        (w.ids["a13"],) = s.add("Lead", {"LastName": "Gone", "Company": "C",  # 13
                                         "Email": "a13@x.io", "HasOptedOutOfEmail": True})
        s.delete("Lead", w.ids["a13"])
        pf.add({"Email": "a13@x.io", "unsubscribed": False})
        (w.ids["f14-in"], w.ids["f14-out"]) = s.add(  # 14
            "Lead", {"LastName": "F", "Company": "C", "Email": "f14@x.io"},
            {"LastName": "F2", "Company": "C", "Email": "f14@x.io", "LeadSource": "Partner"})
        (w.ids["conv-lead"],) = s.add("Lead", {"LastName": "Conv", "Company": "C",  # conversion
                                               "Email": "lead@x.io", "HasOptedOutOfEmail": True})
        (w.ids["conv-contact"],) = s.add("Contact", {"LastName": "Conv",
                                                     "Email": "contact@x.io"})
        w.outputs.append(_run(meltano, job))
        w.seen["after-first"] = {e: s.crm(e) for e in ("c@x.io", "contact@x.io", "f14@x.io")}
        # changes between runs
        pf.set_unsubscribed("r@x.io", False)  # 3
        s.edit("Contact", w.ids["c-contact"], HasOptedOutOfEmail=True)  # 4
        (w.ids["d-new"],) = s.add("Lead", {"LastName": "D2", "Company": "Web form",  # 5
                                           "Email": "D@X.io"})
        pf.hard_bounce("h@x.io")  # 6
        s.delete("Lead", w.ids["e7"])  # 7
        pf.set_unsubscribed("f14@x.io", True)  # 14
        sandbox.admin("salesforce", "POST", "/convert-lead", json={  # conversion
            "lead_id": w.ids["conv-lead"], "contact_id": w.ids["conv-contact"]})
        w.outputs.append(_run(meltano, job))
        w.seen["e7-after-delete"] = "e7@x.io" in pf.contacts()
        (w.ids["e7-again"],) = s.add("Lead", {"LastName": "E", "Company": "C",  # 7
                                              "Email": "e7@x.io"})
        w.outputs.append(_run(meltano, job))
        w.seen["salesforce-calls"] = sandbox.calls("salesforce")["calls"]
        w.seen["backend"] = backend
        yield w


def _run(meltano, job: str) -> str:
    result = meltano.run(job)
    return result.stdout + result.stderr


def test_1_lead_in_and_contact_out_end_both_out(world):
    assert set(world.systems.crm("a@x.io").values()) == {True}
    assert world.systems.platform.contacts()["a@x.io"]["unsubscribed"] is True
    assert "R1" in world.systems.history("a@x.io")


def test_2_lead_out_and_contact_in_end_both_out(world):
    assert set(world.systems.crm("b@x.io").values()) == {True}
    assert world.systems.platform.contacts()["b@x.io"]["unsubscribed"] is True
    assert "R1: unknown -> opted out" in world.systems.history("b@x.io")


def test_3_a_resubscribe_on_the_platform_reaches_the_lead(world):
    assert set(world.systems.crm("r@x.io").values()) == {False}
    assert world.systems.platform.contacts()["r@x.io"]["unsubscribed"] is False
    assert "R2: opted out -> opted in" in world.systems.history("r@x.io")


def test_4_an_opt_out_on_a_contact_reaches_the_platform_and_the_duplicate_lead(world):
    assert set(world.seen["after-first"]["c@x.io"].values()) == {False}
    assert set(world.systems.crm("c@x.io").values()) == {True}
    assert len(world.systems.crm("c@x.io")) == 2
    assert world.systems.platform.contacts()["c@x.io"]["unsubscribed"] is True
    assert "R2: opted in -> opted out" in world.systems.history("c@x.io")


def test_5_a_new_unchecked_lead_of_an_opted_out_address_is_born_opted_out(world):
    assert world.systems.crm("d@x.io")[f"Lead {world.ids['d-new']}"] is True
    assert world.systems.platform.contacts()["d@x.io"]["unsubscribed"] is True


def test_6_a_hard_bounce_opts_the_lead_out_and_the_audit_names_it(world):
    assert set(world.systems.crm("h@x.io").values()) == {True}
    history = world.systems.history("h@x.io")
    assert "hard bounce" in history and "bounce_is_opt_out" in history
    assert "opt-out made in" not in history


def test_7_a_lead_recreated_after_removal_is_born_opted_out_in_both(world):
    assert world.seen["e7-after-delete"] is False  # on_exit=remove took the contact away
    assert world.systems.platform.contacts()["e7@x.io"]["unsubscribed"] is True
    assert world.systems.crm("e7@x.io") == {f"Lead {world.ids['e7-again']}": True}


def test_8_a_person_account_is_one_contact_without_a_company(world):
    contacts = world.systems.platform.contacts()
    assert contacts["e@x.io"]["unsubscribed"] is True and not contacts["e@x.io"].get("Company")
    assert [e for e in contacts if e.startswith("e@")] == ["e@x.io"]


def test_11_records_without_a_valid_address_are_skipped_and_reported(world):
    first = world.outputs[0]
    assert "skipped no_email: 1" in first and "broken@@x.io" in first


def test_13_an_opt_out_seen_only_on_a_deleted_lead_reaches_the_platform(world):
    assert world.systems.platform.contacts()["a13@x.io"]["unsubscribed"] is True
    assert "already deleted" in world.systems.history("a13@x.io")
    assert "a13@x.io" not in world.systems.ledger("pending")  # no write left unconfirmed


def test_14_an_opt_out_reaches_leads_outside_the_selection_too(world):
    assert world.seen["after-first"]["f14@x.io"] == {
        f"Lead {world.ids['f14-in']}": False, f"Lead {world.ids['f14-out']}": False}
    assert world.systems.crm("f14@x.io") == {
        f"Lead {world.ids['f14-in']}": True, f"Lead {world.ids['f14-out']}": True}


def test_first_sight_opt_outs_are_counted_and_last_run_shows_each_direction(world):
    line = next(li for li in world.outputs[0].splitlines()
                if "summary salesforce_to_" in li and "people seen" in li)
    # a, b, d, e7, e and the converted Lead's Contact are written opted out at first sight
    assert int(line.split("opt-outs propagated=")[1].split(",")[0]) >= 5
    last = [li for li in world.systems.ledger("last-run").splitlines() if li.startswith("run ")]
    assert len(last) == 2 and "salesforce_to_" in last[0] and "_to_salesforce" in last[1]


def test_a_converted_leads_opt_out_reaches_the_existing_contact_it_became(world):
    contact = world.ids["conv-contact"]
    assert world.seen["after-first"]["contact@x.io"] == {f"Contact {contact}": False}
    # converted into the existing, opted-in Contact; Salesforce did not carry the opt-out
    assert world.systems.crm("contact@x.io") == {f"Contact {contact}": True}
    assert world.systems.platform.contacts()["contact@x.io"]["unsubscribed"] is True


def test_the_bulk_world_reads_and_writes_salesforce_through_bulk_jobs_only(world):
    if world.seen["backend"] != "bulk":
        pytest.skip("the REST worlds read and write through REST")
    calls = {(c["method"], c["endpoint"]) for c in world.seen["salesforce-calls"]}
    assert any(m == "POST" and e.endswith("/jobs/query") for m, e in calls)
    assert any(m == "POST" and e.endswith("/jobs/ingest") for m, e in calls)
    assert not [e for m, e in calls if m == "PATCH" and "composite/sobjects" in e]


@pytest.fixture(params=PLATFORM_NAMES)
def one(request, sandbox, meltano) -> Systems:
    """A sandbox of its own, for one platform."""
    return Systems(sandbox, meltano, request.param)


def test_10_a_failing_crm_write_is_retried_until_it_lands_and_9_then_nothing_is_written(one):
    job, meltano = one.platform.sync_job, one.meltano
    one.add("Lead", {"LastName": "F", "Company": "C", "Email": "f@x.io"},
            {"LastName": "Q", "Company": "C", "Email": "q@x.io"},
            {"LastName": "Q2", "Company": "C", "Email": "q2@x.io", "HasOptedOutOfEmail": True})
    one.platform.add({"Email": "f@x.io", "unsubscribed": False},
                     {"Email": "q3@x.io", "unsubscribed": False})
    meltano.run(job)
    one.platform.set_unsubscribed("f@x.io", True)
    one.sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 503, "count": 3, "method": "PATCH", "endpoint": "composite/sobjects"})
    meltano.extra_env["TARGET_SALESFORCE_MAX_RETRIES"] = "1"
    failed = meltano.run(job, check=False)  # two attempts, both refused: the run fails
    assert failed.returncode != 0
    assert set(one.crm("f@x.io").values()) == {False}
    meltano.run(job)  # the third attempt is refused, the fourth lands
    assert set(one.crm("f@x.io").values()) == {True}
    assert "R7" in one.history("f@x.io") or "R5" in one.history("f@x.io")
    # 9: the runs have read back what they wrote, and nobody changed anything since
    one.reset_counters()
    meltano.run(job)
    assert one.writes() == {"salesforce": 0, "platform": 0}


def test_12_a_resubscribe_survives_one_failed_crm_write(one):
    job, meltano, pf = one.platform.sync_job, one.meltano, one.platform
    one.add("Lead", {"LastName": "Z", "Company": "C", "Email": "z@x.io"})
    pf.add({"Email": "z@x.io", "unsubscribed": True})
    # the platform-to-Salesforce job alone: the Lead is written opted out, by its address
    meltano.run(f"{pf.name}-to-salesforce")
    assert set(one.crm("z@x.io").values()) == {True}
    pf.set_unsubscribed("z@x.io", False)
    one.sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 503, "count": 1, "method": "PATCH", "endpoint": "composite/sobjects"})
    meltano.extra_env["TARGET_SALESFORCE_MAX_RETRIES"] = "0"
    assert meltano.run(job, check=False).returncode != 0  # the re-subscribe's write failed
    del meltano.extra_env["TARGET_SALESFORCE_MAX_RETRIES"]
    meltano.run(job)
    meltano.run(job)
    # our own older opt-out, read back from the Lead, is not a new opt-out made in Salesforce
    assert set(one.crm("z@x.io").values()) == {False}
    assert pf.contacts()["z@x.io"]["unsubscribed"] is False
    assert "R2: opted out -> opted in" in one.history("z@x.io")


def test_15_a_run_killed_mid_write_does_not_stop_the_next_scheduled_run(one):
    meltano, pf = one.meltano, one.platform
    one.add("Lead", *({"LastName": f"K{n}", "Company": "C", "Email": f"k{n}@x.io",
                       "HasOptedOutOfEmail": n % 3 == 0} for n in range(450)))
    process = subprocess.Popen([str(meltano.meltano), "run", pf.sync_job],
                               cwd=meltano.project_root, env=meltano.env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while one.writes()["platform"] == 0 and process.poll() is None:
            assert time.monotonic() < deadline, "the run never wrote to the platform"
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # mid-write: the whole `meltano run`
        process.wait()
    # the next scheduled runs start on their own and end as an undisturbed run would (a plain
    # `meltano run` within five minutes of the kill is refused by Meltano: README)
    for _ in range(3):
        meltano.schedule_run(pf.schedule)
    contacts = pf.contacts()
    assert all(contacts[f"k{n}@x.io"]["unsubscribed"] is (n % 3 == 0) for n in range(450))
    one.reset_counters()
    meltano.schedule_run(pf.schedule)
    assert one.writes() == {"salesforce": 0, "platform": 0}


def test_dry_run_decides_everything_and_writes_nothing(systems, meltano):
    systems.add("Lead", {"LastName": "Y", "Company": "C", "Email": "y@x.io",
                         "HasOptedOutOfEmail": True})
    systems.reset_counters()
    meltano.extra_env["CONSENT_MAPPER_DRY_RUN"] = "true"
    result = meltano.run("consent-sync")
    assert systems.writes() == {"salesforce": 0, "platform": 0}
    assert "dry run: decision R1: person=y@x.io" in result.stderr
    assert "no decisions recorded" in systems.history("y@x.io")
    meltano.extra_env["CONSENT_MAPPER_DRY_RUN"] = "false"
    meltano.run("consent-sync")  # a dry run moved no bookmark: the real run still sees the Lead
    assert systems.ap()["y@x.io"]["unsubscribed"] is True
