"""Records marked `_create: true`: inserted unless a record with their address exists."""

from __future__ import annotations

import logging

from target_salesforce.client import SalesforceClient
from target_salesforce.creates import CreateBatch, recheck, where_to_look

from .test_integration_target import rows


def lead(email: str, **fields: object) -> dict:
    return {"Email": email, "LastName": "New", "Company": "[not provided]",
            "HasOptedOutOfEmail": False, "_create": True, **fields}


def create_calls(sandbox) -> int:
    return sum(r["count"] for r in sandbox.calls("salesforce")["calls"]
               if r["method"] == "POST" and "composite/sobjects" in r["endpoint"])


def test_a_create_inserts_once_and_a_replay_finds_it(sandbox, run_target):
    sandbox.admin("salesforce", "POST", "/records/Contact", json=[
        {"LastName": "Known", "Email": "Known@x.io"}])
    streams = {"Lead": [lead("new@x.io", FirstName="Nia", HasOptedOutOfEmail=True),
                        {"Email": "NEW@x.io", "Phone": "555", "_create": True},  # one record
                        lead("known@x.io")]}  # a Contact holds it: no Lead
    result = run_target(sandbox, streams)
    assert result.returncode == 0, result.stderr
    leads = rows(sandbox, "Lead")
    assert [(r["Email"], r["FirstName"], r["Phone"], r["HasOptedOutOfEmail"], r["OwnerId"])
            for r in leads] == [("NEW@x.io", "Nia", "555", True, "005Sb0000000001AAA")]
    assert create_calls(sandbox) == 1
    assert "1 already existed" in result.stderr
    again = run_target(sandbox, streams)  # replayed (a crash before the state moved)
    assert again.returncode == 0, again.stderr
    assert len(rows(sandbox, "Lead")) == 1 and create_calls(sandbox) == 1


def test_a_lead_without_company_is_rejected_with_salesforce_reason(sandbox, run_target):
    result = run_target(sandbox, {"Lead": [{"Email": "c@x.io", "LastName": "L",
                                            "_create": True}]})
    assert result.returncode != 0
    assert "REQUIRED_FIELD_MISSING on Company" in result.stderr
    assert "Email=c@x.io" in result.stderr
    assert rows(sandbox, "Lead") == [] and result.states == []


def test_a_bad_owner_is_refused_per_record(sandbox, run_target):
    result = run_target(sandbox, {"Contact": [
        {"Email": "o@x.io", "LastName": "O", "OwnerId": "005Sb00000000zzAAA", "_create": True},
        {"Email": "p@x.io", "LastName": "P", "_create": True}]})
    assert result.returncode != 0
    assert "INVALID_CROSS_REFERENCE_KEY" in result.stderr
    assert [r["Email"] for r in rows(sandbox, "Contact")] == ["p@x.io"]


def test_creates_at_bulk_threshold_go_through_one_insert_job(sandbox, run_target):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Old", "Company": "C", "Email": "b0@x.io"}])
    streams = {"Lead": [lead(f"b{n}@x.io") for n in range(5)]}
    result = run_target(sandbox, streams, bulk_threshold=3)
    assert result.returncode == 0, result.stderr
    assert sorted(r["Email"] for r in rows(sandbox, "Lead")) == [f"b{n}@x.io" for n in range(5)]
    ingest = [r for r in sandbox.calls("salesforce")["calls"]
              if r["method"] == "POST" and r["endpoint"].endswith("jobs/ingest")]
    assert sum(r["count"] for r in ingest) == 1 and create_calls(sandbox) == 0


def test_a_retried_create_call_looks_again_before_inserting():
    """The first answer is lost after Salesforce inserted: the retry finds the record."""
    created: list[str] = []

    class FakeSf:
        def restful(self, path: str, method: str, json: dict) -> list[dict]:
            created.extend(r["Email"] for r in json["records"])
            return [{"id": f"00Q{n}", "success": True, "errors": []}
                    for n, _ in enumerate(json["records"])]

        def query_all(self, soql: str) -> dict:
            return {"records": [{"Id": "00QFOUND", "Email": e} for e in created
                                if f"'{e}'" in soql]}

    class LosingSession:
        def call(self, what: str, action):  # noqa: ANN001, ANN201
            action(FakeSf())  # applied, but the answer never arrived
            return action(FakeSf())  # the session's retry

    client = SalesforceClient.__new__(SalesforceClient)
    client.session = LosingSession()
    bodies = [{"attributes": {"type": "Lead"}, "Email": "a@x.io"}]
    where = where_to_look({}, "Lead", "Email")
    results = client.create_collection(
        bodies, lambda sent, query: recheck(sent, "Email", where, query))
    assert created == ["a@x.io"] and results == [
        {"id": "00QFOUND", "success": True, "errors": []}]


def test_where_to_look_always_includes_the_stream_itself():
    assert where_to_look({}, "Lead", "Email") == ["Lead.Email", "Contact.Email"]
    assert where_to_look({"create_unless_found": {"Lead": ["Contact.Email"]}}, "Lead",
                         "Email") == ["Lead.Email", "Contact.Email"]
    batch = CreateBatch("Lead", "Email")
    batch.add({"LastName": "x", "_create": True})
    assert "needs its Email" in batch.invalid[0].message
    logging.getLogger(__name__).debug("ok")
