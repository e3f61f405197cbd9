"""Salesforce stand-in: Bulk API 2.0 query jobs as documented (states, CSV, locators, errors)."""

import csv
import io

import pytest

from consent_sandbox.salesforce.testing import api_session, connect

pytestmark = pytest.mark.xdist_group("salesforce-bulk-query")

ROWS = 250
SOQL = "SELECT Id, LastName, Company, HasOptedOutOfEmail, SystemModstamp, Phone FROM Lead"
CREATE_KEYS = {"id", "operation", "object", "createdById", "createdDate", "systemModstamp",
               "state", "concurrencyMode", "contentType", "apiVersion", "lineEnding",
               "columnDelimiter"}


@pytest.fixture(scope="module")
def loaded(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")
    people = [{"LastName": f"L{i:03d}", "Company": "Acme", "Email": f"p{i}@example.com",
               "HasOptedOutOfEmail": i % 2 == 0} for i in range(ROWS - 1)]
    people.append({"LastName": 'Quote "q", comma\nnewline', "Company": "Acme",
                   "Phone": "+1 555", "HasOptedOutOfEmail": False})
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=people).json()["ids"]
    return {"sandbox": sandbox, "ids": ids}


@pytest.fixture(scope="module")
def api(loaded):
    return api_session(loaded["sandbox"])


def url(sandbox, path: str, version: str = "59.0") -> str:
    return f"{sandbox.salesforce_url}/services/data/v{version}/jobs/query{path}"


def create(api, sandbox, soql: str = SOQL, **extra: str):
    return api.post(url(sandbox, ""), json={"operation": "query", "query": soql, **extra},
                    timeout=60)


def completed(api, sandbox, soql: str = SOQL, **extra: str) -> str:
    created = create(api, sandbox, soql, **extra)
    assert created.status_code == 200, created.text
    job_id = created.json()["id"]
    for _ in range(10):
        if api.get(url(sandbox, f"/{job_id}"), timeout=60).json()["state"] == "JobComplete":
            return job_id
    raise AssertionError("the query job never completed")


def test_a_job_is_created_upload_complete_then_polled_in_progress_then_complete(api, loaded):
    sandbox = loaded["sandbox"]
    created = create(api, sandbox)
    assert created.status_code == 200
    job = created.json()
    assert set(job) == CREATE_KEYS
    assert job["id"].startswith("750") and len(job["id"]) == 18
    assert (job["state"], job["object"], job["operation"]) == ("UploadComplete", "Lead", "query")
    assert (job["apiVersion"], job["lineEnding"], job["columnDelimiter"]) == (59.0, "LF", "COMMA")
    early = api.get(url(sandbox, f"/{job['id']}/results"), timeout=60)
    assert early.status_code == 400
    assert early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    first = api.get(url(sandbox, f"/{job['id']}"), timeout=60).json()
    assert first["state"] == "InProgress" and first["jobType"] == "V2Query"
    second = api.get(url(sandbox, f"/{job['id']}"), timeout=60).json()
    assert (second["state"], second["numberRecordsProcessed"]) == ("JobComplete", ROWS)


@pytest.mark.parametrize(("line_ending", "delimiter", "char"), [
    ("LF", "COMMA", ","), ("CRLF", "PIPE", "|"), ("LF", "TAB", "\t"), ("CRLF", "SEMICOLON", ";")])
def test_results_are_quoted_csv_with_the_jobs_line_ending_and_delimiter(
        api, loaded, line_ending, delimiter, char):
    sandbox = loaded["sandbox"]
    job_id = completed(api, sandbox, lineEnding=line_ending, columnDelimiter=delimiter)
    response = api.get(url(sandbox, f"/{job_id}/results"), timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Sforce-NumberOfRecords"] == str(ROWS)
    assert response.headers["Sforce-Locator"] == "null"
    raw = response.content.decode()
    newline = "\r\n" if line_ending == "CRLF" else "\n"
    header_line = raw.split(newline, 1)[0]
    assert header_line == char.join(f'"{n}"' for n in (
        "Id", "LastName", "Company", "HasOptedOutOfEmail", "SystemModstamp", "Phone"))
    if line_ending == "LF":
        assert "\r" not in raw
    else:
        assert raw.count("\r\n") == ROWS + 1  # the newline inside a value stays a bare LF
    rows = list(csv.DictReader(io.StringIO(raw, newline=""), delimiter=char))
    assert [r["Id"] for r in rows] == loaded["ids"]
    assert rows[0]["HasOptedOutOfEmail"] == "true" and rows[1]["HasOptedOutOfEmail"] == "false"
    assert rows[0]["Phone"] == "" and rows[-1]["Phone"] == "+1 555"
    assert rows[-1]["LastName"] == 'Quote "q", comma\nnewline'
    assert rows[0]["SystemModstamp"].endswith("Z")


def test_pages_follow_the_locator_until_null(api, loaded):
    sandbox = loaded["sandbox"]
    job_id = completed(api, sandbox, "SELECT Id FROM Lead")
    seen, locator, sizes, locators = [], None, [], []
    while locator != "null":
        params = {"maxRecords": 100, **({"locator": locator} if locator else {})}
        page = api.get(url(sandbox, f"/{job_id}/results"), params=params, timeout=60)
        assert page.status_code == 200
        rows = list(csv.reader(io.StringIO(page.text, newline="")))
        assert rows[0] == ["Id"]
        sizes.append(int(page.headers["Sforce-NumberOfRecords"]))
        assert sizes[-1] == len(rows) - 1
        seen += [r[0] for r in rows[1:]]
        locator = page.headers["Sforce-Locator"]
        locators.append(locator)
    assert sizes == [100, 100, 50] and seen == loaded["ids"]
    again = api.get(url(sandbox, f"/{job_id}/results"),
                    params={"maxRecords": 100, "locator": locators[0]}, timeout=60)
    assert again.text.splitlines()[1] == f'"{seen[100]}"'  # a locator can be read again


def test_related_fields_are_dotted_columns(api, loaded):
    sandbox = loaded["sandbox"]
    job_id = completed(api, sandbox, "SELECT Id, Owner.Name, ConvertedContact.Email FROM Lead "
                                     "WHERE LastName = 'L001'")
    rows = list(csv.reader(io.StringIO(api.get(url(sandbox, f"/{job_id}/results"),
                                               timeout=60).text, newline="")))
    assert rows == [["Id", "Owner.Name", "ConvertedContact.Email"],
                    [loaded["ids"][1], "Integration User", ""]]


def test_query_all_includes_deleted_rows_and_query_does_not(api, loaded):
    sandbox = loaded["sandbox"]
    extra = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Gone", "Company": "x", "IsDeleted": True}]).json()["ids"]
    soql = "SELECT Id, IsDeleted FROM Lead WHERE LastName = 'Gone'"
    live = api.get(url(sandbox, f"/{completed(api, sandbox, soql)}/results"), timeout=60)
    assert live.headers["Sforce-NumberOfRecords"] == "0"
    assert live.text == '"Id","IsDeleted"\n'
    created = api.post(url(sandbox, ""), json={"operation": "queryAll", "query": soql},
                       timeout=60).json()
    for _ in range(3):
        api.get(url(sandbox, f"/{created['id']}"), timeout=60)
    everything = api.get(url(sandbox, f"/{created['id']}/results"), timeout=60)
    assert everything.text.splitlines()[1:] == [f'"{extra[0]}","true"']


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"operation": "query", "query": "SELECT Nope FROM Lead"}, 400, "INVALID_FIELD"),
    ({"operation": "query", "query": "SELEKT Id FROM Lead"}, 400, "MALFORMED_QUERY"),
    ({"operation": "query", "query": "SELECT COUNT() FROM Lead"}, 400, "INVALIDJOB"),
    ({"operation": "query", "query": "SELECT Id FROM Lead LIMIT 5 OFFSET 2"}, 400, "INVALIDJOB"),
    ({"operation": "fetch", "query": "SELECT Id FROM Lead"}, 400, "INVALIDJOB"),
    ({"operation": "query", "query": "SELECT Id FROM Lead", "lineEnding": "CR"}, 400,
     "INVALIDJOB"),
])
def test_bad_jobs_are_refused_in_the_documented_shape(api, loaded, body, status, code):
    response = api.post(url(loaded["sandbox"], ""), json=body, timeout=60)
    assert response.status_code == status
    [error] = response.json()
    assert error["errorCode"] == code and error["message"]


def test_field_level_security_applies_as_in_rest_queries(api, loaded):
    sandbox = loaded["sandbox"]
    sandbox.admin("salesforce", "POST", "/fls", json={"object": "Lead", "field": "Phone",
                                                       "access": "hidden"})
    try:
        refused = create(api, sandbox, "SELECT Id, Phone FROM Lead")
        assert refused.status_code == 400
        assert refused.json()[0]["errorCode"] == "INVALID_FIELD"
        assert "No such column 'Phone'" in refused.json()[0]["message"]
    finally:
        sandbox.admin("salesforce", "POST", "/fls", json={"object": "Lead", "field": "Phone",
                                                           "access": "visible"})


def test_unknown_jobs_other_versions_and_bad_locators(api, loaded):
    sandbox = loaded["sandbox"]
    missing = api.get(url(sandbox, "/750Sb0000000000AAA"), timeout=60)
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"
    job_id = completed(api, sandbox, "SELECT Id FROM Lead")
    other = api.get(url(sandbox, f"/{job_id}/results", version="60.0"), timeout=60)
    assert other.status_code == 409
    bad = api.get(url(sandbox, f"/{job_id}/results"), params={"locator": "nonsense!"},
                  timeout=60)
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_LOCATOR"
    old = api.post(url(sandbox, "", version="46.0"), json={"operation": "query",
                                                             "query": "SELECT Id FROM Lead"})
    assert old.status_code == 404  # query jobs arrived in v47.0


def test_abort_delete_and_list(api, loaded):
    sandbox = loaded["sandbox"]
    job_id = create(api, sandbox, "SELECT Id FROM Lead").json()["id"]
    aborted = api.patch(url(sandbox, f"/{job_id}"), json={"state": "Aborted"}, timeout=60)
    assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
    assert api.get(url(sandbox, f"/{job_id}"), timeout=60).json()["state"] == "Aborted"
    again = api.patch(url(sandbox, f"/{job_id}"), json={"state": "Aborted"}, timeout=60)
    assert again.status_code == 409 and again.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    listed = api.get(url(sandbox, ""), timeout=60).json()
    assert listed["done"] is True and listed["nextRecordsUrl"] is None
    assert job_id in {j["id"] for j in listed["records"]}
    assert api.delete(url(sandbox, f"/{job_id}"), timeout=60).status_code == 204
    assert api.get(url(sandbox, f"/{job_id}"), timeout=60).status_code == 404


def test_simple_salesforce_bulk2_query_and_download(loaded, tmp_path):
    sf = connect(loaded["sandbox"])
    pages = list(sf.bulk2.Lead.query("SELECT Id, LastName FROM Lead", max_records=120, wait=0))
    ids = [row["Id"] for page in pages for row in csv.DictReader(io.StringIO(page, newline=""))]
    assert len(pages) == 3 and ids == loaded["ids"]
    files = sf.bulk2.Lead.download("SELECT Id FROM Lead", str(tmp_path), max_records=200, wait=0)
    assert [f["number_of_records"] for f in files] == [200, 50]
    assert files[-1]["locator"] == ""  # "null" on the last page


def test_jobs_are_counted_limited_and_faults_reach_bulk_paths(api, loaded):
    sandbox = loaded["sandbox"]
    limits_url = f"{sandbox.salesforce_url}/services/data/v59.0/limits"
    before = api.get(limits_url, timeout=60).json()
    job_id = completed(api, sandbox, "SELECT Id FROM Lead")
    sandbox.admin("salesforce", "POST", "/faults", json={
        "endpoint": "jobs/query/{job_id}/results", "method": "GET", "status": 503, "count": 1})
    try:
        assert api.get(url(sandbox, f"/{job_id}/results"), timeout=60).status_code == 503
        assert api.get(url(sandbox, f"/{job_id}/results"), timeout=60).status_code == 200
    finally:
        sandbox.admin("salesforce", "DELETE", "/faults")
    after = api.get(limits_url, timeout=60).json()
    jobs = "DailyBulkV2QueryJobs"
    assert after[jobs]["Remaining"] == before[jobs]["Remaining"] - 1
    assert after["DailyBulkV2QueryFileStorageMB"]["Max"] > 0
    calls = {(c["method"], c["endpoint"]): c["count"] for c in sandbox.calls("salesforce")["calls"]}
    assert calls[("GET", "/services/data/{version}/jobs/query/{job_id}/results")] >= 2


def test_an_org_without_bulk_api_refuses_jobs_and_advertises_none(api, loaded):
    sandbox = loaded["sandbox"]
    sandbox.admin("salesforce", "POST", "/bulk", json={"enabled": False})
    try:
        refused = create(api, sandbox)
        assert refused.status_code == 403
        assert refused.json()[0]["errorCode"] == "API_DISABLED_FOR_ORG"
        base = f"{sandbox.salesforce_url}/services/data/v59.0"
        assert "jobs" not in api.get(base, timeout=60).json()
        assert "DailyBulkV2QueryJobs" not in api.get(f"{base}/limits", timeout=60).json()
    finally:
        sandbox.admin("salesforce", "POST", "/bulk", json={"enabled": True})
    assert "jobs" in api.get(f"{sandbox.salesforce_url}/services/data/v59.0",
                             timeout=60).json()


def test_max_records_may_change_from_page_to_page_and_the_locator_keeps_the_position(loaded):
    # a reader bounding its memory asks for a page at a time, of whatever size suits it
    client = connect(loaded["sandbox"]).bulk2.Lead._client
    job_id = client.create_job("query", query="SELECT Id FROM Lead")["id"]
    states = [client.get_job(job_id, True)["state"] for _ in range(3)]
    assert states[-1] == "JobComplete", states
    ids, locator, counts = [], "", []
    for size in (40, 100, 1000):
        page = client.get_query_results(job_id, locator, size)
        counts.append(page["number_of_records"])
        ids += [row["Id"] for row in csv.DictReader(io.StringIO(page["records"], newline=""))]
        locator = page["locator"]
    assert counts == [40, 100, 110] and locator == ""  # "null" after the last page
    assert ids == loaded["ids"]
