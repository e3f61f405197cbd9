"""Bulk API 2.0 jobs through the session, against the Salesforce stand-in over loopback TLS."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

import pytest

from consent_sandbox.testing import RunningSandbox, running_sandbox
from consentsync_salesforce import Bulk2, SalesforceSession, from_csv, parse_sf_error


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("sbx")) as sbx:
        yield sbx


@pytest.fixture
def session(sandbox) -> SalesforceSession:
    for method, path in (("POST", "/reset"), ("DELETE", "/faults"), ("DELETE", "/calls"),
                         ("DELETE", "/record-failures")):
        sandbox.admin("salesforce", method, path)
    sandbox.admin("salesforce", "POST", "/bulk", json={"enabled": True, "pending_polls": 1})
    sf = sandbox.endpoints["salesforce"]
    config = {k: sf[k] for k in ("instance_url", "login_url", "client_id", "client_secret",
                                 "refresh_token")}
    return SalesforceSession({**config, "ca_bundle": sandbox.ca_bundle,
                              "retry_backoff_seconds": 0.01}, logging.getLogger("test"),
                             sleep=lambda _: None)


def calls(sandbox) -> Counter:
    return Counter({(c["method"], c["endpoint"]): c["count"]
                    for c in sandbox.calls("salesforce")["calls"]})


def test_a_query_job_reads_what_rest_reads_and_its_calls_are_retried(sandbox, session):
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": f"B{i}", "Company": "C", "Email": f"b{i}@x.io",
         "HasOptedOutOfEmail": i % 2 == 0} for i in range(30)]).json()["ids"]
    session.restful("delete", f"sobjects/Lead/{ids[0]}", "DELETE")
    for method, endpoint, status in (("POST", "jobs/query", 503), ("GET", "jobs/query/{", 500),
                                     ("GET", "results", 429)):
        sandbox.admin("salesforce", "POST", "/faults", json={
            "status": status, "count": 1, "endpoint": endpoint, "method": method})
    soql = "SELECT Id, Email, HasOptedOutOfEmail, IsDeleted, SystemModstamp FROM Lead"
    types = {"HasOptedOutOfEmail": "boolean", "IsDeleted": "boolean"}
    bulk = [{k: from_csv(v, types.get(k, "string")) for k, v in row.items()}
            for page in Bulk2(session).query("Lead", soql, include_deleted=True) for row in page]
    rest = [{k: v for k, v in row.items() if k != "attributes"}
            for row in session.query(soql, include_deleted=True)]
    key = lambda r: r["Id"]  # noqa: E731
    assert len(bulk) == 30 and [r["Id"] for r in sorted(bulk, key=key)] == sorted(ids)
    for b, r in zip(sorted(bulk, key=key), sorted(rest, key=key), strict=True):
        assert {k: v for k, v in b.items() if k != "SystemModstamp"} == {
            k: v for k, v in r.items() if k != "SystemModstamp"}


def test_an_ingest_job_reports_each_failed_record_and_a_fault_on_each_job_call_is_retried(
        sandbox, session):
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": f"I{i}", "Company": "C", "Email": f"i{i}@x.io"} for i in range(5)]
    ).json()["ids"]
    sandbox.admin("salesforce", "POST", "/record-failures", json={
        "object": "Lead", "field": "Id", "values": [ids[1]],
        "error_code": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Needs a reason"})
    for method, endpoint in (("POST", "jobs/ingest"), ("PUT", "batches"),
                             ("PATCH", "jobs/ingest/{"), ("GET", "jobs/ingest/{"),
                             ("GET", "failedResults")):
        sandbox.admin("salesforce", "POST", "/faults", json={
            "status": 503, "count": 1, "endpoint": endpoint, "method": method})
    bulk = Bulk2(session)
    result = bulk.ingest("Lead", [{"Id": i, "HasOptedOutOfEmail": True} for i in ids])
    assert sorted(r["Id"] for r in result.successful) == sorted(ids[:1] + ids[2:])
    assert [r["Id"] for r in result.failed] == [ids[1]] and result.unprocessed == []
    error = parse_sf_error(result.failed[0]["sf__Error"])
    assert error["statusCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert error["message"] == "Needs a reason"
    opted = {r["Id"]: r["HasOptedOutOfEmail"]
             for r in sandbox.admin("salesforce", "GET", "/records/Lead").json()}
    assert opted == {i: i != ids[1] for i in ids}
    assert bulk.jobs == 1
    assert calls(sandbox)[("POST", "/services/data/{version}/jobs/ingest")] == 2  # one retry


def test_an_upsert_job_by_external_id_and_the_calls_it_costs(sandbox, session):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "U0", "Company": "C", "Email": "u0@x.io", "External_Id__c": "ext-0"}])
    sandbox.admin("salesforce", "DELETE", "/calls")
    rows = [{"External_Id__c": f"ext-{i}", "LastName": f"U{i}", "Company": "C",
             "HasOptedOutOfEmail": True} for i in range(3)]
    result = Bulk2(session).ingest("Lead", rows, external_id_field="External_Id__c")
    assert sorted(r["sf__Created"] for r in result.successful) == ["false", "true", "true"]
    # sign-in, create, upload, close, two polls (one pending), three result files
    assert sum(calls(sandbox).values()) == 9, calls(sandbox)
