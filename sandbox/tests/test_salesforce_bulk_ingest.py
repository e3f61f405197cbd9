"""Salesforce stand-in: Bulk API 2.0 ingest jobs (lifecycle, result CSVs, failures, errors)."""

import csv
import io

import pytest

from consent_sandbox.salesforce.testing import api_session, connect

pytestmark = pytest.mark.xdist_group("salesforce-bulk-ingest")

CREATE_KEYS = {"id", "operation", "object", "createdById", "createdDate", "systemModstamp",
               "state", "concurrencyMode", "contentType", "apiVersion", "contentUrl",
               "lineEnding", "columnDelimiter"}


@pytest.fixture(autouse=True)
def clean(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")
    sandbox.admin("salesforce", "DELETE", "/faults")


@pytest.fixture(scope="module")
def api(sandbox):
    return api_session(sandbox)


def url(sandbox, path: str = "") -> str:
    return f"{sandbox.salesforce_url}/services/data/v59.0/jobs/ingest{path}"


def parsed(text: str, delimiter: str = ",") -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def leads(sandbox) -> dict[str, dict]:
    return {r["Id"]: r for r in sandbox.admin("salesforce", "GET", "/records/Lead").json()}


def run_job(api, sandbox, data: str, **job: str) -> dict:
    """Create, upload, close and poll to the end; the job's final info."""
    created = api.post(url(sandbox), json={"object": "Lead", "contentType": "CSV", **job},
                       timeout=60)
    assert created.status_code == 200, created.text
    job_id = created.json()["id"]
    upload = api.put(url(sandbox, f"/{job_id}/batches"), data=data.encode(),
                     headers={"Content-Type": "text/csv"}, timeout=60)
    assert upload.status_code == 201, upload.text
    closed = api.patch(url(sandbox, f"/{job_id}"), json={"state": "UploadComplete"}, timeout=60)
    assert closed.status_code == 200 and closed.json()["state"] == "UploadComplete"
    for _ in range(10):
        info = api.get(url(sandbox, f"/{job_id}"), timeout=60).json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
    raise AssertionError("the ingest job never finished")


def results(api, sandbox, job_id: str, kind: str) -> str:
    response = api.get(url(sandbox, f"/{job_id}/{kind}"), timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    return response.text


def test_insert_job_lifecycle_and_result_files(api, sandbox):
    created = api.post(url(sandbox), json={"object": "Lead", "operation": "insert"}, timeout=60)
    job = created.json()
    assert set(job) == CREATE_KEYS and job["state"] == "Open" and job["id"].startswith("750")
    assert job["contentUrl"] == f"services/data/v59.0/jobs/ingest/{job['id']}/batches"
    data = "LastName,Company,Email\nAda,AE,ada@example.com\nBad,AE,bad@@x\nNoCompany,,n@x.com\n"
    put = api.put(url(sandbox, f"/{job['id']}/batches"), data=data,
                  headers={"Content-Type": "text/csv"}, timeout=60)
    assert (put.status_code, put.content) == (201, b"")
    twice = api.put(url(sandbox, f"/{job['id']}/batches"), data=data, timeout=60)
    assert twice.status_code == 409 and twice.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    early = api.get(url(sandbox, f"/{job['id']}/successfulResults"), timeout=60)
    assert early.status_code == 400 and early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    assert api.patch(url(sandbox, f"/{job['id']}"), json={"state": "UploadComplete"},
                     timeout=60).json()["state"] == "UploadComplete"
    polled = api.get(url(sandbox, f"/{job['id']}"), timeout=60).json()
    assert polled["state"] == "InProgress" and polled["jobType"] == "V2Ingest"
    done = api.get(url(sandbox, f"/{job['id']}"), timeout=60).json()
    assert (done["state"], done["numberRecordsProcessed"], done["numberRecordsFailed"]) == (
        "JobComplete", 3, 2)
    ok = results(api, sandbox, job["id"], "successfulResults")
    assert ok.splitlines()[0] == '"sf__Id","sf__Created","LastName","Company","Email"'
    [row] = parsed(ok)
    assert row["sf__Created"] == "true" and leads(sandbox)[row["sf__Id"]]["LastName"] == "Ada"
    failed = parsed(results(api, sandbox, job["id"], "failedResults"))
    assert [f["LastName"] for f in failed] == ["Bad", "NoCompany"]
    assert failed[0]["sf__Error"] == ("INVALID_EMAIL_ADDRESS:Email: invalid email address: "
                                      "bad@@x:Email --")
    assert failed[1]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    assert failed[0]["sf__Id"] == ""
    for spelling in ("unprocessedrecords", "unprocessedRecords"):
        assert results(api, sandbox, job["id"], spelling) == '"LastName","Company","Email"\n'


def test_update_by_id_with_crlf_and_semicolons(api, sandbox):
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "A", "Company": "c"}, {"LastName": "B", "Company": "c", "IsDeleted": True},
        {"LastName": "C", "Company": "c", "Phone": "1"}]).json()["ids"]
    data = (f"Id;HasOptedOutOfEmail;Phone\r\n{ids[0]};true;\r\n{ids[1]};true;\r\n"
            f"{ids[2][:15]};1;#N/A\r\n")
    info = run_job(api, sandbox, data, operation="update", lineEnding="CRLF",
                   columnDelimiter="SEMICOLON")
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 1)
    ok = results(api, sandbox, info["id"], "successfulResults")
    assert ok.count("\r\n") == 3 and ok.startswith('"sf__Id";"sf__Created";"Id"')
    assert {r["sf__Id"] for r in parsed(ok, ";")} == {ids[0], ids[2]}
    [failed] = parsed(results(api, sandbox, info["id"], "failedResults"), ";")
    assert failed["sf__Id"] == ids[1] and failed["sf__Error"].startswith("ENTITY_IS_DELETED:")
    rows = leads(sandbox)
    assert rows[ids[0]]["HasOptedOutOfEmail"] is True and rows[ids[2]]["Phone"] is None


def test_upsert_by_external_id_reports_created(api, sandbox):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Old", "Company": "c", "External_Id__c": "k1"}])
    data = "External_Id__c,LastName,Company\nk1,Renamed,\nk2,New,c\n"
    info = run_job(api, sandbox, data, operation="upsert", externalIdFieldName="External_Id__c")
    assert info["numberRecordsFailed"] == 0
    created = {r["External_Id__c"]: r["sf__Created"]
               for r in parsed(results(api, sandbox, info["id"], "successfulResults"))}
    assert created == {"k1": "false", "k2": "true"}
    names = sorted(r["LastName"] for r in leads(sandbox).values())
    assert names == ["New", "Renamed"]


def test_delete_goes_to_the_recycle_bin_and_hard_delete_does_not(api, sandbox):
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": n, "Company": "c"} for n in ("A", "B")]).json()["ids"]
    run_job(api, sandbox, f"Id\n{ids[0]}\n", operation="delete")
    run_job(api, sandbox, f"Id\n{ids[1]}\n", operation="hardDelete")
    rows = leads(sandbox)
    assert rows[ids[0]]["IsDeleted"] is True and ids[1] not in rows


def test_a_header_naming_an_unknown_or_hidden_field_fails_the_job(api, sandbox):
    sandbox.admin("salesforce", "POST", "/fls", json={"object": "Lead", "field": "Phone",
                                                       "access": "hidden"})
    info = run_job(api, sandbox, "LastName,Company,Phone\nA,c,1\n", operation="insert")
    assert info["state"] == "Failed"
    assert info["errorMessage"] == "InvalidBatch : Field name not found : Phone"
    assert results(api, sandbox, info["id"], "unprocessedrecords") == (
        '"LastName","Company","Phone"\n"A","c","1"\n')
    assert parsed(results(api, sandbox, info["id"], "failedResults")) == []
    assert leads(sandbox) == {}


def test_a_read_only_field_fails_each_record(api, sandbox):
    sandbox.admin("salesforce", "POST", "/fls", json={"object": "Lead", "field": "Phone",
                                                       "access": "read_only"})
    info = run_job(api, sandbox, "LastName,Company,Phone\nA,c,1\n", operation="insert")
    assert (info["state"], info["numberRecordsFailed"]) == ("JobComplete", 1)
    [failed] = parsed(results(api, sandbox, info["id"], "failedResults"))
    assert failed["sf__Error"].startswith("INVALID_FIELD_FOR_INSERT_UPDATE:")


def test_injected_record_failures_by_email_then_a_retry_succeeds(api, sandbox):
    sandbox.admin("salesforce", "POST", "/record-failures", json={
        "object": "Lead", "field": "Email", "values": ["B@example.com"],
        "error_code": "UNABLE_TO_LOCK_ROW", "times": 1})
    data = "LastName,Company,Email\nA,c,a@example.com\nB,c,b@example.com\n"
    first = run_job(api, sandbox, data, operation="insert")
    assert first["numberRecordsFailed"] == 1
    [failed] = parsed(results(api, sandbox, first["id"], "failedResults"))
    assert failed["Email"] == "b@example.com"
    assert failed["sf__Error"] == ("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to "
                                   "this record or 1 records: --")
    retry = run_job(api, sandbox, "LastName,Company,Email\nB,c,b@example.com\n",
                    operation="insert")
    assert retry["numberRecordsFailed"] == 0


def test_per_record_faults_and_whole_call_faults_reach_ingest_paths(api, sandbox):
    sandbox.admin("salesforce", "POST", "/faults", json={
        "per_record": True, "endpoint": "jobs/ingest", "error_code": "UNABLE_TO_LOCK_ROW",
        "count": 2})
    info = run_job(api, sandbox, "LastName,Company\nA,c\nB,c\nC,c\n", operation="insert")
    assert info["numberRecordsFailed"] == 2
    sandbox.admin("salesforce", "POST", "/faults", json={
        "endpoint": "jobs/ingest/{job_id}/batches", "method": "PUT", "status": 503, "count": 1})
    job_id = api.post(url(sandbox), json={"object": "Lead", "operation": "insert"},
                      timeout=60).json()["id"]
    refused = api.put(url(sandbox, f"/{job_id}/batches"), data="LastName\nx\n", timeout=60)
    assert refused.status_code == 503 and refused.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert api.put(url(sandbox, f"/{job_id}/batches"), data="LastName\nx\n",
                   timeout=60).status_code == 201


def test_a_job_can_be_made_to_fail_and_polls_are_configurable(api, sandbox):
    sandbox.admin("salesforce", "POST", "/bulk", json={
        "fail_jobs": ["InternalServerError : retry later"], "pending_polls": 3})
    states = []
    created = api.post(url(sandbox), json={"object": "Lead", "operation": "insert"},
                       timeout=60).json()
    api.put(url(sandbox, f"/{created['id']}/batches"), data="LastName,Company\nA,c\n",
            timeout=60)
    api.patch(url(sandbox, f"/{created['id']}"), json={"state": "UploadComplete"}, timeout=60)
    for _ in range(4):
        states.append(api.get(url(sandbox, f"/{created['id']}"), timeout=60).json())
    assert [s["state"] for s in states] == ["InProgress"] * 3 + ["Failed"]
    assert states[-1]["errorMessage"] == "InternalServerError : retry later"
    assert parsed(results(api, sandbox, created["id"], "unprocessedrecords")) == [
        {"LastName": "A", "Company": "c"}]
    sandbox.admin("salesforce", "POST", "/bulk", json={"pending_polls": 0})
    info = run_job(api, sandbox, "LastName,Company\nA,c\n", operation="insert")
    assert info["state"] == "JobComplete"


@pytest.mark.parametrize(("body", "code"), [
    ({"object": "Nope", "operation": "insert"}, "INVALIDJOB"),
    ({"object": "User", "operation": "insert"}, "INVALIDJOB"),
    ({"object": "Lead", "operation": "merge"}, "INVALIDJOB"),
    ({"object": "Lead", "operation": "upsert"}, "INVALIDJOB"),
    ({"object": "Lead", "operation": "upsert", "externalIdFieldName": "Company"}, "INVALIDJOB"),
    ({"object": "Lead", "operation": "insert", "columnDelimiter": "SPACE"}, "INVALIDJOB"),
    ({"object": "Lead", "operation": "insert", "contentType": "JSON"}, "INVALIDJOB"),
])
def test_bad_job_definitions_are_refused(api, sandbox, body, code):
    response = api.post(url(sandbox), json=body, timeout=60)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code


def test_state_errors_abort_delete_and_list(api, sandbox):
    job_id = api.post(url(sandbox), json={"object": "Lead", "operation": "insert"},
                      timeout=60).json()["id"]
    open_delete = api.delete(url(sandbox, f"/{job_id}"), timeout=60)
    assert open_delete.status_code == 409
    assert open_delete.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    aborted = api.patch(url(sandbox, f"/{job_id}"), json={"state": "Aborted"}, timeout=60)
    assert aborted.json()["state"] == "Aborted"
    late = api.put(url(sandbox, f"/{job_id}/batches"), data="LastName\nx\n", timeout=60)
    assert late.status_code == 409
    listed = api.get(url(sandbox), timeout=60).json()
    assert [j["id"] for j in listed["records"]] == [job_id] and listed["done"] is True
    assert api.delete(url(sandbox, f"/{job_id}"), timeout=60).status_code == 204
    missing = api.get(url(sandbox, f"/{job_id}"), timeout=60)
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_batches_are_counted_in_limits(api, sandbox):
    limits_url = f"{sandbox.salesforce_url}/services/data/v59.0/limits"
    before = api.get(limits_url, timeout=60).json()["DailyBulkApiBatches"]["Remaining"]
    run_job(api, sandbox, "LastName,Company\nA,c\n", operation="insert")
    after = api.get(limits_url, timeout=60).json()["DailyBulkApiBatches"]["Remaining"]
    assert after == before - 1


def test_simple_salesforce_bulk2_upsert_update_and_results(sandbox):
    sf = connect(sandbox)
    upserted = sf.bulk2.Lead.upsert(records=[
        {"External_Id__c": "s1", "LastName": "One", "Company": "c"},
        {"External_Id__c": "s2", "LastName": "Two", "Company": "c"}],
        external_id_field="External_Id__c", wait=0)
    assert [(r["numberRecordsProcessed"], r["numberRecordsFailed"]) for r in upserted] == [(2, 0)]
    ids = [r["sf__Id"] for r in parsed(sf.bulk2.Lead.get_successful_records(
        upserted[0]["job_id"]))]
    updated = sf.bulk2.Lead.update(records=[{"Id": i, "HasOptedOutOfEmail": "true"} for i in ids],
                                   wait=0)
    assert updated[0]["numberRecordsFailed"] == 0
    assert all(r["HasOptedOutOfEmail"] for r in leads(sandbox).values())
    unprocessed = sf.bulk2.Lead.get_unprocessed_records(updated[0]["job_id"])
    assert sorted(next(csv.reader(io.StringIO(unprocessed)))) == ["HasOptedOutOfEmail", "Id"]


def test_a_job_larger_than_one_slice_completes_in_the_background(api, sandbox):
    count = 2_100  # above what the close call processes itself
    data = "LastName,Company,External_Id__c\n" + "".join(f"L{i},c,k{i}\n" for i in range(count))
    created = api.post(url(sandbox), json={"object": "Lead", "operation": "upsert",
                                           "externalIdFieldName": "External_Id__c"},
                       timeout=60).json()
    api.put(url(sandbox, f"/{created['id']}/batches"), data=data, timeout=60)
    closed = api.patch(url(sandbox, f"/{created['id']}"), json={"state": "UploadComplete"},
                       timeout=60).json()
    assert closed["state"] == "UploadComplete"
    states = []
    while not states or states[-1]["state"] != "JobComplete":
        assert len(states) < 1_000, states[-1]
        states.append(api.get(url(sandbox, f"/{created['id']}"), timeout=60).json())
    assert {s["state"] for s in states[:-1]} <= {"UploadComplete", "InProgress"}
    assert "InProgress" in {s["state"] for s in states}
    assert (states[-1]["numberRecordsProcessed"], states[-1]["numberRecordsFailed"]) == (count, 0)
    assert len(parsed(results(api, sandbox, created["id"], "successfulResults"))) == count
    assert len(leads(sandbox)) == count
