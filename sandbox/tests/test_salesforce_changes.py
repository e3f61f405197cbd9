"""Salesforce stand-in: updated/deleted replication calls, /composite, resources and limits."""

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from consent_sandbox.salesforce.testing import api_session, connect

pytestmark = pytest.mark.xdist_group("salesforce-changes")


@pytest.fixture(autouse=True)
def clean(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")


@pytest.fixture(scope="module")
def sf(sandbox):
    return connect(sandbox)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def minutes_ago(n: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=n)


def test_updated_lists_ids_in_the_window_ignoring_seconds(sf, sandbox):
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "old", "Company": "c", "SystemModstamp": stamp(minutes_ago(90))},
        {"LastName": "in", "Company": "c", "SystemModstamp": stamp(minutes_ago(30))},
        {"LastName": "gone", "Company": "c", "SystemModstamp": stamp(minutes_ago(30)),
         "IsDeleted": True},
    ]).json()["ids"]
    start = minutes_ago(60) + timedelta(seconds=59)  # reads as the minute
    answer = sf.Lead.updated(start, minutes_ago(10))
    assert answer == {"ids": [ids[1]], "latestDateCovered": stamp(minutes_ago(10))}
    future = sf.Lead.updated(minutes_ago(60), datetime.now(UTC) + timedelta(hours=1))
    assert future["latestDateCovered"] <= stamp(datetime.now(UTC))


def test_deleted_lists_recycle_bin_rows_with_their_dates(sf, sandbox):
    when = stamp(minutes_ago(20))
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "gone", "Company": "c", "SystemModstamp": when, "IsDeleted": True},
        {"LastName": "live", "Company": "c", "SystemModstamp": when}]).json()["ids"]
    answer = sf.Lead.deleted(minutes_ago(60), minutes_ago(1))
    assert answer["deletedRecords"] == [{"id": ids[0], "deletedDate": when}]
    assert answer["latestDateCovered"] == stamp(minutes_ago(1))
    assert answer["earliestDateAvailable"] <= stamp(minutes_ago(60))


@pytest.mark.parametrize(("params", "code"), [
    ({"start": "2024-01-02T00:00:00Z", "end": "2024-01-01T00:00:00Z"},
     "INVALID_REPLICATION_DATE"),
    ({"start": "2001-01-01T00:00:00Z", "end": "2001-01-02T00:00:00Z"},
     "INVALID_REPLICATION_DATE"),
    ({"start": "yesterday", "end": "2024-01-01T00:00:00Z"}, "INVALID_REPLICATION_DATE"),
    ({"end": "2024-01-01T00:00:00Z"}, "MISSING_ARGUMENT"),
])
@pytest.mark.parametrize("kind", ["updated", "deleted"])
def test_replication_argument_errors(sandbox, kind, params, code):
    response = api_session(sandbox).get(
        f"{sandbox.salesforce_url}/services/data/v59.0/sobjects/Lead/{kind}/", params=params,
        timeout=60)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code


def test_composite_chains_references_and_reports_each_subrequest(sf, sandbox):
    answer = sf.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "acct",
         "body": {"Name": "Acme"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "who",
         "body": {"LastName": "Lee", "AccountId": "@{acct.id}"}},
        {"method": "GET", "referenceId": "q",
         "url": "/services/data/v59.0/query?q=SELECT+Id,Account.Name+FROM+Contact"},
        {"method": "PATCH", "url": "/services/data/v59.0/sobjects/Contact/@{q.records[0].Id}",
         "referenceId": "optout", "body": {"HasOptedOutOfEmail": True}},
    ]})["compositeResponse"]
    assert [(r["referenceId"], r["httpStatusCode"]) for r in answer] == [
        ("acct", 201), ("who", 201), ("q", 200), ("optout", 204)]
    contact_id = answer[1]["body"]["id"]
    assert answer[1]["httpHeaders"] == {
        "Location": f"/services/data/v59.0/sobjects/Contact/{contact_id}"}
    assert answer[2]["body"]["records"][0]["Account"]["Name"] == "Acme"
    assert answer[3]["body"] is None
    assert sf.Contact.get(contact_id)["HasOptedOutOfEmail"] is True
    calls = {(c["method"], c["endpoint"]): c["count"] for c in sandbox.calls("salesforce")["calls"]}
    assert calls[("POST", "/services/data/{version}/composite")] >= 1


def test_composite_all_or_none_rolls_everything_back(sf, sandbox):
    answer = sf.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Lead", "referenceId": "ok",
         "body": {"LastName": "A", "Company": "c"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Lead", "referenceId": "bad",
         "body": {"LastName": "B", "Company": "c", "Email": "not@@valid"}},
        {"method": "GET", "url": "/services/data/v59.0/sobjects/Lead/@{ok.id}",
         "referenceId": "after"},
    ]})["compositeResponse"]
    assert [r["httpStatusCode"] for r in answer] == [400, 400, 400]
    assert answer[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert answer[1]["body"][0]["errorCode"] == "INVALID_EMAIL_ADDRESS"
    assert answer[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sandbox.admin("salesforce", "GET", "/records/Lead").json() == []


def test_composite_without_all_or_none_keeps_what_succeeded(sf, sandbox):
    answer = sf.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Lead", "referenceId": "bad",
         "body": {"LastName": "B"}},
        {"method": "GET", "url": "/services/data/v59.0/sobjects/Lead/@{bad.id}",
         "referenceId": "needs_bad"},
        {"method": "PATCH", "url": "/services/data/v59.0/composite/sobjects/Lead/External_Id__c",
         "referenceId": "upsert", "body": {"records": [
             {"attributes": {"type": "Lead"}, "External_Id__c": "x", "LastName": "X",
              "Company": "c"}]}},
    ]})["compositeResponse"]
    assert [r["httpStatusCode"] for r in answer] == [400, 400, 200]
    assert answer[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert answer[2]["body"][0]["created"] is True
    assert [r["External_Id__c"] for r in
            sandbox.admin("salesforce", "GET", "/records/Lead").json()] == ["x"]


def test_composite_refuses_more_than_25_subrequests(sf):
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": [
            {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"}
            for i in range(26)]})


def test_resources_and_limits_advertise_only_what_is_served(sf, sandbox):
    resources = sf.restful("", method="GET")
    assert set(resources) == {"sobjects", "query", "queryAll", "limits", "composite", "jobs"}
    session = api_session(sandbox)
    for name, path in resources.items():
        if name != "jobs":
            assert session.get(f"{sandbox.salesforce_url}{path}", timeout=60,
                               params={"q": "SELECT Id FROM Lead"}).status_code != 404, name
    assert session.get(f"{sandbox.salesforce_url}{resources['jobs']}/query",
                       timeout=60).status_code == 200
    limits = sf.limits()
    assert set(limits) == {"DailyApiRequests", "DataStorageMB", "DailyBulkApiBatches",
                           "DailyBulkV2QueryJobs", "DailyBulkV2QueryFileStorageMB"}
    listed = session.get(f"{sandbox.salesforce_url}/services/data", timeout=60).json()
    assert listed[-1] == {"label": "Summer '25", "url": "/services/data/v64.0", "version": "64.0"}


def test_bulk_api_1_is_answered_as_not_enabled(sandbox):
    response = api_session(sandbox).post(
        f"{sandbox.salesforce_url}/services/async/59.0/job", data="<jobInfo/>", timeout=60)
    assert response.status_code == 400
    assert "<exceptionCode>FeatureNotEnabled</exceptionCode>" in response.text
