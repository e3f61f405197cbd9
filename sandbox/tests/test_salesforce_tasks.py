"""Salesforce stand-in: Task (Activity History) described, upserted by external id in
collections, queried; IsClosed follows Status; TaskSubtype is create-only, as in a real org."""

import pytest

from consent_sandbox.salesforce.testing import connect

pytestmark = pytest.mark.xdist_group("salesforce-tasks")
KEY = "Autopilot_Activity_Key__c"


@pytest.fixture(autouse=True)
def clean(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")


@pytest.fixture(scope="module")
def sf(sandbox):
    return connect(sandbox)


def lead(sf) -> str:
    return sf.Lead.create({"LastName": "Lovelace", "Company": "Engines",
                           "Email": "ada@x.io"})["id"]


def upsert(sf, records: list[dict], field: str = KEY) -> list[dict]:
    body = {"allOrNone": False,
            "records": [{"attributes": {"type": "Task"}, **r} for r in records]}
    return sf.restful(f"composite/sobjects/Task/{field}", method="PATCH", json=body)


def test_describe_lists_the_task_fields(sf):
    described = sf.Task.describe()
    assert described["keyPrefix"] == "00T" and described["createable"] is True
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["WhoId"]["type"] == "reference"
    assert fields["WhoId"]["referenceTo"] == ["Contact", "Lead"]
    assert fields[KEY]["externalId"] is True and fields[KEY]["idLookup"] is True
    assert fields["TaskSubtype"]["createable"] is True
    assert fields["TaskSubtype"]["updateable"] is False
    assert fields["IsClosed"]["updateable"] is False
    assert {"Subject", "Status", "Priority", "ActivityDate", "Description", "Type"} <= set(fields)


def test_upsert_by_key_creates_then_updates_never_duplicates(sf):
    who = lead(sf)
    task = {KEY: "ap:1:opened:m1", "WhoId": who, "Subject": "Email opened: m1",
            "Status": "Completed", "ActivityDate": "2026-11-30", "Description": "first"}
    first = upsert(sf, [task, {**task, KEY: "ap:1:clicked:m1", "Subject": "clicked"}])
    assert [(r["success"], r["created"]) for r in first] == [(True, True), (True, True)]
    assert all(r["id"].startswith("00T") for r in first)
    again = upsert(sf, [{**task, "Description": "replayed", KEY: "AP:1:OPENED:M1"}])
    assert again == [{"id": first[0]["id"], "success": True, "errors": [], "created": False}]
    rows = sf.query_all(f"SELECT Id, Subject, Status, IsClosed, ActivityDate, Description, "
                        f"{KEY} FROM Task WHERE WhoId = '{who}' ORDER BY {KEY}")["records"]
    assert [(r[KEY], r["Description"], r["IsClosed"], r["ActivityDate"]) for r in rows] == [
        ("ap:1:clicked:m1", "first", True, "2026-11-30"),
        ("ap:1:opened:m1", "replayed", True, "2026-11-30")]


def test_a_new_task_gets_salesforce_defaults_and_stays_open(sf):
    who = lead(sf)
    [result] = upsert(sf, [{KEY: "k", "WhoId": who, "Subject": "Call"}])
    row = sf.Task.get(result["id"])
    assert (row["Status"], row["Priority"], row["IsClosed"]) == ("Not Started", "Normal", False)


def test_task_subtype_is_set_on_create_and_refused_on_update(sf):
    who = lead(sf)
    [created] = upsert(sf, [{KEY: "k", "WhoId": who, "TaskSubtype": "Email"}])
    assert created["success"] is True
    [refused] = upsert(sf, [{KEY: "k", "WhoId": who, "TaskSubtype": "Email"}])
    assert refused["success"] is False
    assert refused["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_who_must_be_a_lead_or_contact(sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    [result] = upsert(sf, [{KEY: "k", "WhoId": account, "Subject": "x"}])
    assert result["success"] is False
    assert result["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert result["errors"][0]["fields"] == ["WhoId"]


def test_two_hundred_tasks_are_one_collection_call(sf, sandbox):
    who = lead(sf)
    sandbox.admin("salesforce", "DELETE", "/calls")
    results = upsert(sf, [{KEY: f"k{i}", "WhoId": who, "Status": "Completed"}
                          for i in range(200)])
    assert all(r["success"] and r["created"] for r in results)
    patches = [c for c in sandbox.calls("salesforce")["calls"] if c["method"] == "PATCH"]
    assert [c["count"] for c in patches] == [1]
    assert patches[0]["endpoint"].endswith("/composite/sobjects/{sobject}/{field}")
    assert sf.query(f"SELECT COUNT() FROM Task WHERE WhoId = '{who}'")["totalSize"] == 200


def test_tasks_upsert_through_a_bulk_ingest_job_by_their_key(sf):
    who = lead(sf)
    records = [{KEY: f"b{i}", "WhoId": who, "Subject": f"s{i}", "Status": "Completed"}
               for i in range(3)]
    for _ in range(2):  # the second job updates the same three Tasks
        [job] = sf.bulk2.Task.upsert(records=records, external_id_field=KEY, wait=0)
        assert (job["numberRecordsProcessed"], job["numberRecordsFailed"]) == (3, 0)
    rows = sf.query_all(f"SELECT {KEY}, IsClosed FROM Task WHERE WhoId = '{who}'")["records"]
    assert sorted((r[KEY], r["IsClosed"]) for r in rows) == [
        ("b0", True), ("b1", True), ("b2", True)]
