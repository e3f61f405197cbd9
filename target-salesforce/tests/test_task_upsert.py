"""A Task stream keyed on an external id field: upserted by it in collections of 200, a replay
updating the same Tasks (target-salesforce knows Salesforce, not where the Tasks come from)."""

from __future__ import annotations

import json
import subprocess

from consent_sandbox.testing import RunningSandbox
from target_salesforce.records import upsert_key

from .conftest import TARGET, target_config

KEY = "Autopilot_Activity_Key__c"


def test_upsert_key_comes_from_one_key_property_other_than_id():
    assert upsert_key([KEY]) == KEY
    assert upsert_key(["Id"]) is None and upsert_key(["id"]) is None
    assert upsert_key([]) is None and upsert_key(None) is None
    assert upsert_key(["a", "b"]) is None


def task_messages(tasks: list[dict]) -> str:
    schema = {"type": "object", "properties": {
        KEY: {"type": "string"}, "WhoId": {"type": "string"}, "Subject": {"type": "string"},
        "Status": {"type": "string"}, "ActivityDate": {"type": "string", "format": "date"}}}
    lines = [{"type": "SCHEMA", "stream": "Task", "key_properties": [KEY], "schema": schema},
             *({"type": "RECORD", "stream": "Task", "record": t} for t in tasks),
             {"type": "STATE", "value": {"bookmarks": {"run": 1}}}]
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def run(sandbox: RunningSandbox, tasks: list[dict], tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(target_config(sandbox)))
    return subprocess.run([str(TARGET), "--config", str(path)], input=task_messages(tasks),
                          capture_output=True, text=True, timeout=300, check=False)


def tasks_of(sandbox: RunningSandbox) -> list[dict]:
    return [r for r in sandbox.admin("salesforce", "GET", "/records/Task").json()
            if not r["IsDeleted"]]


def upsert_calls(sandbox: RunningSandbox) -> int:
    return sum(c["count"] for c in sandbox.calls("salesforce")["calls"]
               if c["method"] == "PATCH" and c["endpoint"].endswith("/{sobject}/{field}"))


def test_tasks_are_upserted_by_their_key_in_collections_of_200(sandbox, tmp_path):
    [who] = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Ada", "Company": "C", "Email": "ada@x.io"}]).json()["ids"]
    tasks = [{KEY: f"k-{i}", "WhoId": who, "Subject": f"Email opened: m{i}",
              "Status": "Completed", "ActivityDate": "2026-11-30"} for i in range(250)]
    first = run(sandbox, tasks, tmp_path)
    assert first.returncode == 0, first.stderr
    assert upsert_calls(sandbox) == 2  # 200 + 50
    assert len(tasks_of(sandbox)) == 250
    assert {(t["WhoId"], t["Status"], t["IsClosed"]) for t in tasks_of(sandbox)} == {
        (who, "Completed", True)}
    replay = run(sandbox, [{**t, "Subject": t["Subject"] + " (again)"} for t in tasks], tmp_path)
    assert replay.returncode == 0, replay.stderr
    found = tasks_of(sandbox)
    assert len(found) == 250  # updated, not duplicated
    assert all(t["Subject"].endswith("(again)") for t in found)
    assert upsert_calls(sandbox) == 4
    assert '"bookmarks"' in replay.stdout  # the state goes on once every Task is written
