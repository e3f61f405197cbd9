"""Salesforce calls per opt-out change, over REST and through a Bulk API 2.0 ingest job.

A tenth of the addresses sit on a second Lead in other letter case, so 2,000 input records fan out
to 2,200 updates. REST in batches of 200: a lookup per 200 input records, 11 full collection
calls (not 20 half-empty ones). One batch of 2,000 above bulk_threshold: one ingest job.
"""

from __future__ import annotations

from collections import Counter

PEOPLE = 2000


def count_calls(sandbox) -> Counter:
    calls = Counter()
    for row in sandbox.calls("salesforce")["calls"]:
        kind = next((k for k in ("composite/sobjects", "jobs/ingest", "query", "describe",
                                 "oauth2/token") if k in row["endpoint"]), row["endpoint"])
        calls[(row["method"], kind)] += row["count"]
    return calls


def seed_people(sandbox) -> list[dict]:
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": f"L{i}", "Company": "C", "Email": f"p{i:05d}@x.io"} for i in range(PEOPLE)
    ] + [{"LastName": f"D{i}", "Company": "C", "Email": f"P{i:05d}@x.IO"}
         for i in range(0, PEOPLE, 10)])
    sandbox.admin("salesforce", "DELETE", "/calls")
    return [{"Email": f"P{i:05d}@X.IO", "HasOptedOutOfEmail": True} for i in range(PEOPLE)]


def opted_out(sandbox) -> list[dict]:
    return [r for r in sandbox.admin("salesforce", "GET", "/records/Lead").json()
            if r.get("HasOptedOutOfEmail")]


def test_calls_per_opt_out_change_over_rest(sandbox, run_target):
    records = seed_people(sandbox)
    result = run_target(sandbox, {"Lead": records}, batch_size_rows=200, bulk_threshold=0)
    assert result.returncode == 0, result.stderr
    calls = count_calls(sandbox)
    written = opted_out(sandbox)
    assert len(written) == PEOPLE * 11 // 10
    assert calls[("PATCH", "composite/sobjects")] == len(written) // 200
    assert calls[("GET", "query")] == PEOPLE // 200
    assert sum(calls.values()) == 21 + 2  # plus one token and one describe
    per_10k = sum(calls.values()) * 10_000 / len(written)
    print(f"\nREST: Salesforce calls per 10,000 opt-out changes: {per_10k:.0f} ({dict(calls)})")

    sandbox.admin("salesforce", "DELETE", "/calls")
    assert run_target(sandbox, {"Lead": records}, batch_size_rows=200).returncode == 0
    assert sandbox.calls("salesforce")["writes"] == 0  # sign-ins are no writes; no record written


def test_calls_per_opt_out_change_through_one_bulk_job(sandbox, run_target):
    records = seed_people(sandbox)
    result = run_target(sandbox, {"Lead": records})  # one batch of 2,000: above bulk_threshold
    assert result.returncode == 0, result.stderr
    calls = count_calls(sandbox)
    written = opted_out(sandbox)
    assert len(written) == PEOPLE * 11 // 10
    assert calls[("PATCH", "composite/sobjects")] == 0
    # create, upload, close; the job's state read until done (InProgress at least once); the
    # successful, failed and unprocessed results
    assert calls[("POST", "jobs/ingest")] == 1 and calls[("PUT", "jobs/ingest")] == 1
    assert calls[("PATCH", "jobs/ingest")] == 1 and calls[("GET", "jobs/ingest")] >= 2 + 3
    assert calls[("GET", "query")] <= PEOPLE // 200  # lookups: as many values as a URL holds
    per_10k = sum(calls.values()) * 10_000 / len(written)
    print(f"\nBulk: Salesforce calls per 10,000 opt-out changes: {per_10k:.0f} ({dict(calls)})")

    sandbox.admin("salesforce", "DELETE", "/calls")
    assert run_target(sandbox, {"Lead": records}).returncode == 0
    assert sandbox.calls("salesforce")["writes"] == 0
