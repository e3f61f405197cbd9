"""The Bulk suite: N Leads read through Bulk API 2.0 query jobs, N opt-outs written through ingest
jobs with per-record failures injected, through real `meltano run`; the calls counted.

`python -m benchmarks bulk --size N` (default 20,000; the README's figures are at 100,000): an
empty sandbox gets N opted-in Leads and, in Autopilot, the same N people unsubscribed (they opted
out there). `salesforce-to-autopilot` then reads every Lead (Bulk query jobs above the tap's
`bulk_threshold`), and `autopilot-to-salesforce` writes N opt-outs onto the Leads (ingest jobs
above the target's `bulk_threshold`) while 1% of the rows fail once with `UNABLE_TO_LOCK_ROW`, as
in a busy org. The figures: Salesforce calls by endpoint for each step, the rows that failed and
were retried, and that every Lead ends opted out; beside them, what the same work costs over REST
(query pages of 2,000 rows, collections of 200), computed from those sizes.
"""

from __future__ import annotations

import math
import random
import tempfile
from pathlib import Path

import requests

from consent_sandbox.testing import MeltanoProject, RunningSandbox

from .scale import ROOT, Measured, admin_session, run_job

PEOPLE = 20_000  # above both bulk_thresholds (tap 10,000, target 2,000)
TAP_THRESHOLD = 10_000
FAILING_SHARE = 0.01
SEED_CHUNK = 5_000
REST_QUERY_PAGE, REST_COLLECTION = 2_000, 200  # Salesforce's REST page and sObject Collection sizes


def sandbox_args(size: int | None) -> list[str]:
    return ["--demo-size", "0"]


def _seed(sandbox: RunningSandbox, people: int) -> list[str]:
    """N opted-in Leads and N unsubscribed Autopilot contacts of the same people: the Lead Ids."""
    sf_base = sandbox.salesforce_url + "/_sandbox"
    ap_base = sandbox.autopilot_url.rsplit("/v1", 1)[0] + "/_sandbox"
    ids: list[str] = []
    with admin_session(sandbox) as session:
        for start in range(0, people, SEED_CHUNK):
            numbers = range(start, min(people, start + SEED_CHUNK))
            answer = session.post(f"{sf_base}/records/Lead", timeout=600, json=[
                {"LastName": f"Bulk {n}", "Company": "Bulk", "Email": f"bulk{n}@example.com",
                 "HasOptedOutOfEmail": False} for n in numbers])
            answer.raise_for_status()
            ids += answer.json()["ids"]
            session.post(f"{ap_base}/contacts", timeout=600, json=[
                {"Email": f"bulk{n}@example.com", "LastName": f"Bulk {n}", "unsubscribed": True}
                for n in numbers]).raise_for_status()
    return ids


def _opted_out_leads(session: requests.Session, sandbox: RunningSandbox) -> int:
    rows = session.get(f"{sandbox.salesforce_url}/_sandbox/records/Lead", timeout=600).json()
    return sum(1 for row in rows if row.get("HasOptedOutOfEmail"))


def _salesforce_calls(m: Measured) -> dict[str, int]:
    return {endpoint: n for endpoint, n in sorted(m.by_endpoint["salesforce"].items())}


def _jobs(calls: dict[str, int], kind: str) -> int:
    return sum(n for endpoint, n in calls.items()
               if endpoint.startswith("POST ") and endpoint.endswith(f"/jobs/{kind}"))


def run(sandbox: RunningSandbox, size: int | None = None) -> dict:
    people = size or PEOPLE
    timeout = max(900.0, people * 0.1)
    lead_ids = _seed(sandbox, people)
    failing = random.Random(11).sample(lead_ids, max(1, round(people * FAILING_SHARE)))
    sandbox.admin("salesforce", "POST", "/record-failures", json={
        "object": "Lead", "field": "Id", "values": failing, "error_code": "UNABLE_TO_LOCK_ROW",
        "times": 1})
    with tempfile.TemporaryDirectory() as workdir:
        project = MeltanoProject(sandbox, Path(workdir), ROOT)
        for plugin in ("TAP_AUTOPILOT", "TARGET_AUTOPILOT"):  # the sandbox is unthrottled
            project.extra_env[f"{plugin}_RATE_LIMIT_PER_SECOND"] = "1000"
        if people < TAP_THRESHOLD:  # a small trial still takes the Bulk path it measures
            project.extra_env["TAP_SALESFORCE_OPTOUT_BULK_THRESHOLD"] = "1"
            project.extra_env["TARGET_SALESFORCE_BULK_THRESHOLD"] = "1"
            project.extra_env["TAP_SALESFORCE_OPTOUT_PAGE_SIZE"] = "200"  # the first page is REST
        read = run_job(sandbox, project, "salesforce-to-autopilot", timeout)
        write = run_job(sandbox, project, "autopilot-to-salesforce", timeout)
        settle = run_job(sandbox, project, "autopilot-to-salesforce", timeout)
    with admin_session(sandbox) as session:
        opted_out = _opted_out_leads(session, sandbox)
    read_calls, write_calls = _salesforce_calls(read), _salesforce_calls(write)
    result = {
        "leads": people,
        "failing_rows_injected": len(failing),
        "leads_opted_out_at_the_end": opted_out,
        "read_salesforce_calls": sum(read_calls.values()),
        "read_query_jobs": _jobs(read_calls, "query"),
        "read_rest_query_pages_instead": math.ceil(people / REST_QUERY_PAGE),
        "write_salesforce_calls": sum(write_calls.values()),
        "write_ingest_jobs": _jobs(write_calls, "ingest"),
        "write_rest_collections_instead": math.ceil(people / REST_COLLECTION),
        "settling_run_salesforce_writes": settle.calls["salesforce_writes"],
        "read_wall_s": round(read.wall_s, 1), "write_wall_s": round(write.wall_s, 1),
        "read_calls_by_endpoint": read_calls, "write_calls_by_endpoint": write_calls,
    }
    print(f"\nbulk: {people:,} Leads; {len(failing):,} rows fail once (UNABLE_TO_LOCK_ROW)")
    print(f"  read : {result['read_salesforce_calls']} Salesforce calls, "
          f"{result['read_query_jobs']} query job(s) (REST: "
          f"{result['read_rest_query_pages_instead']} query pages)")
    print(f"  write: {result['write_salesforce_calls']} Salesforce calls, "
          f"{result['write_ingest_jobs']} ingest job(s) (REST: "
          f"{result['write_rest_collections_instead']} collection calls)")
    for title, calls in (("read", read_calls), ("write", write_calls)):
        for endpoint, n in calls.items():
            print(f"    {title:<5} {n:>6}  {endpoint}")
    print(f"  Leads opted out at the end: {opted_out:,} of {people:,}; "
          f"a settling run wrote {result['settling_run_salesforce_writes']} times\n")
    return result
