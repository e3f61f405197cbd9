"""The activity feed end to end through real `meltano run`: Autopilot's mail history on a synced
contact reaches Salesforce as completed Tasks on the person's Lead, one per event, never twice."""

from __future__ import annotations

import json
import sqlite3
import subprocess

from consent_sandbox.salesforce.testing import connect

JOB = "consent-sync"
KEY = "Autopilot_Activity_Key__c"
DAY = 1764547200000  # 2025-12-01T00:00:00Z in epoch ms
HISTORY = {"mail_received": {"mail_1": DAY}, "mail_opened": {"mail_1": DAY + 3_600_000},
           "mail_clicked": {"mail_1": DAY + 7_200_000}, "mail_bounced": {"mail_2": DAY},
           "mail_unsubscribed": {"mail_1": DAY + 86_400_000}}


def seed(sandbox, history: dict = HISTORY) -> str:
    """ada@x.io: a Lead in Salesforce and an Autopilot contact with mail history; bob@x.io only
    in Autopilot (no Salesforce record: no Task)."""
    [lead] = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Lovelace", "Company": "Engines", "Email": "ada@x.io"}]).json()["ids"]
    sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "ada@x.io", **history}, {"Email": "bob@x.io", **history}])
    return lead


def tasks(sandbox) -> list[dict]:
    return connect(sandbox).query_all(
        f"SELECT Id, WhoId, Subject, Status, IsClosed, ActivityDate, {KEY} FROM Task "
        f"ORDER BY {KEY}")["records"]


def task_upserts(sandbox) -> int:
    """sObject Collections upsert calls served (only Tasks are upserted here)."""
    return sum(c["count"] for c in sandbox.calls("salesforce")["calls"]
               if c["method"] == "PATCH" and c["endpoint"].endswith("/{sobject}/{field}"))


def activities_on(meltano, **settings: str) -> None:
    meltano.extra_env["CONSENT_MAPPER_ACTIVITIES"] = "true"
    for name, value in settings.items():
        meltano.extra_env[f"CONSENT_MAPPER_{name.upper()}"] = value


def test_mail_events_become_completed_tasks_on_the_lead_one_per_event(sandbox, meltano):
    activities_on(meltano)
    lead = seed(sandbox)
    meltano.run(JOB)
    found = tasks(sandbox)
    ada = next(c for c in sandbox.admin("autopilot", "GET", "/contacts").json()
               if c["Email"] == "ada@x.io")
    prefix = f"autopilot:{ada['contact_id']}:"
    assert sorted((t[KEY].removeprefix(prefix), t["Subject"]) for t in found) == [
        ("bounced:mail_2", "Email bounced (soft): mail_2"),
        ("clicked:mail_1", "Email link clicked: mail_1"),
        ("opened:mail_1", "Email opened: mail_1"),
        ("received:mail_1", "Email received: mail_1"),
        ("unsubscribed:mail_1", "Unsubscribed from email: mail_1"),
    ]  # bob@x.io has no Salesforce record: none of his
    assert {(t["WhoId"], t["Status"], t["IsClosed"]) for t in found} == {(lead, "Completed", True)}
    assert {t["ActivityDate"] for t in found} == {"2025-12-01", "2025-12-02"}
    assert task_upserts(sandbox) == 1  # five Tasks, one collection call


def test_no_task_is_duplicated_by_a_rerun_or_a_replayed_run(sandbox, meltano):
    activities_on(meltano)
    seed(sandbox)
    meltano.run(JOB)
    first = {t[KEY]: t["Id"] for t in tasks(sandbox)}
    assert len(first) == 5
    sandbox.admin("salesforce", "DELETE", "/calls")
    meltano.run(JOB)  # nothing changed anywhere
    assert sandbox.calls("salesforce")["writes"] == 0
    # a replay: Meltano's bookmark of the Autopilot direction is lost (as after a crash between
    # the ledger's commit and the target's write): every contact and event comes again
    state_id = next(line for line in meltano_state(meltano, "list").splitlines()
                    if "tap-autopilot" in line).strip()
    meltano_state(meltano, "clear", "--force", state_id)
    sandbox.admin("salesforce", "DELETE", "/calls")
    meltano.run(JOB)
    assert task_upserts(sandbox) == 1  # sent again, as upserts of the same keys
    assert {t[KEY]: t["Id"] for t in tasks(sandbox)} == first  # updated, not duplicated
    # the ledger forgets what it sent, and the contact changes (read again): the same Tasks
    ledger = sqlite3.connect(meltano.workdir / "consent-ledger.db")
    with ledger:
        ledger.execute("DELETE FROM ledger_activities")
    ledger.close()
    sandbox.admin("autopilot", "POST", "/contacts/ada@x.io", json={"FirstName": "Ada"})
    sandbox.admin("salesforce", "DELETE", "/calls")
    meltano.run(JOB)
    assert task_upserts(sandbox) == 1
    assert {t[KEY]: t["Id"] for t in tasks(sandbox)} == first


def test_off_by_default_no_task(sandbox, meltano):
    seed(sandbox)
    meltano.run(JOB)
    assert tasks(sandbox) == []
    assert task_upserts(sandbox) == 0


def test_only_the_configured_event_types(sandbox, meltano):
    activities_on(meltano, activity_types=json.dumps(["opened", "unsubscribed"]))
    seed(sandbox)
    meltano.run(JOB)
    assert sorted(t["Subject"] for t in tasks(sandbox)) == [
        "Email opened: mail_1", "Unsubscribed from email: mail_1"]


def test_writes_are_batched_and_the_run_after_writes_nothing(sandbox, meltano):
    activities_on(meltano)
    opened = {f"mail_{n}": DAY + n for n in range(250)}
    lead = seed(sandbox, {"mail_opened": opened})
    meltano.run(JOB)
    assert len(tasks(sandbox)) == 250
    assert task_upserts(sandbox) == 2  # 200 + 50
    sandbox.admin("salesforce", "DELETE", "/calls")
    meltano.run(JOB)
    assert sandbox.calls("salesforce")["writes"] == 0
    # Autopilot records one more open (the contact's updated_at moves): one Task, one call
    sandbox.admin("autopilot", "POST", "/contacts/ada@x.io/mail",
                  json={"event": "opened", "mail_id": "mail_new", "at": DAY})
    meltano.run(JOB)
    assert task_upserts(sandbox) == 1
    found = tasks(sandbox)
    assert len(found) == 251 and {t["WhoId"] for t in found} == {lead}


def meltano_state(meltano, *args: str) -> str:
    result = subprocess.run([str(meltano.meltano), "state", *args], cwd=meltano.project_root,
                            env=meltano.env(), capture_output=True, text=True, timeout=120,
                            check=True)
    return result.stdout
