"""How fast the sandbox serves, so that it is never what the other benchmarks measure."""

from __future__ import annotations

import time

import requests
from simple_salesforce import Salesforce

from consent_sandbox.testing import RunningSandbox

ROWS = 20_000
WRITE_CALLS = 50


def _salesforce(sandbox: RunningSandbox) -> Salesforce:
    sf = sandbox.endpoints["salesforce"]
    token = requests.post(
        f"{sf['login_url']}/services/oauth2/token",
        data={"grant_type": "refresh_token", "client_id": sf["client_id"],
              "client_secret": sf["client_secret"], "refresh_token": sf["refresh_token"]},
        verify=sandbox.ca_bundle, timeout=30,
    ).json()
    session = requests.Session()
    session.verify = sandbox.ca_bundle
    session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the sandbox CA
    return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"],
                      session=session, version="62.0")


def run(sandbox: RunningSandbox, size: int | None = None) -> dict[str, float]:
    rows_count = size or ROWS
    # every write call names 200 rows read back; a small size makes fewer calls
    write_calls = max(1, min(WRITE_CALLS, rows_count // 200))
    rows = [{"LastName": f"Bench{i}", "Company": "Bench", "Email": f"bench{i}@example.com"}
            for i in range(rows_count)]
    sandbox.admin("salesforce", "POST", "/records/Lead", json=rows)
    sf = _salesforce(sandbox)

    start = time.perf_counter()
    pages = 0
    result = sf.query("SELECT Id, Email, HasOptedOutOfEmail FROM Lead")
    ids = [r["Id"] for r in result["records"]]
    pages += 1
    while not result["done"]:
        result = sf.query_more(result["nextRecordsUrl"], identifier_is_url=True)
        ids += [r["Id"] for r in result["records"]]
        pages += 1
    query_seconds = time.perf_counter() - start

    start = time.perf_counter()
    for call in range(write_calls):
        chunk = ids[call * 200:(call + 1) * 200]
        body = {"allOrNone": False, "records": [
            {"attributes": {"type": "Lead"}, "id": i, "HasOptedOutOfEmail": True} for i in chunk]}
        sf.restful("composite/sobjects", method="PATCH", json=body)
    write_seconds = time.perf_counter() - start

    ap = sandbox.endpoints["autopilot"]
    headers = {"autopilotapikey": ap["api_key"]}
    with requests.Session() as session:
        session.verify = sandbox.ca_bundle
        session.trust_env = False
        session.headers.update(headers)
        start = time.perf_counter()
        for call in range(write_calls):
            contacts = [{"Email": f"bench{call}-{i}@example.com", "FirstName": "B"}
                        for i in range(100)]
            session.post(f"{ap['base_url']}/contacts", json={"contacts": contacts},
                         timeout=60).raise_for_status()
        upsert_seconds = time.perf_counter() - start
        start = time.perf_counter()
        page, url = 0, f"{ap['base_url']}/contacts"
        while url:
            body = session.get(url, timeout=60).json()
            page += 1
            url = f"{ap['base_url']}/contacts/{body['bookmark']}" if "bookmark" in body else ""
        scan_seconds = time.perf_counter() - start

    return {
        "salesforce query pages/s (2,000 rows)": round(pages / query_seconds, 1),
        "salesforce collection updates/s (200 rows)": round(write_calls / write_seconds, 1),
        "autopilot bulk upserts/s (100 contacts)": round(write_calls / upsert_seconds, 1),
        "autopilot contact pages/s (100 contacts)": round(page / scan_seconds, 1),
    }
