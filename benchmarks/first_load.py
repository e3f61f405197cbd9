"""The first load at Autopilot's documented pace: N new Leads through `salesforce-to-autopilot`.

`python -m benchmarks first-load --size N` (default 2,300): an empty sandbox that enforces
Autopilot's 5 requests a second (its default, as the real API) gets N new Leads, 1 in 10 opted
out; one `meltano run salesforce-to-autopilot` with the plugins' default settings carries them.
The figures: wall time, Autopilot and Salesforce calls, and that every Lead's person is an
Autopilot contact with the Lead's consent.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from consent_sandbox.testing import MeltanoProject, RunningSandbox

from .scale import ROOT, admin_session

PEOPLE = 2_300
AUTOPILOT_PER_SECOND = 5


def sandbox_args(size: int | None) -> list[str]:
    # the documented limit, which the benchmark harness otherwise lifts
    return ["--demo-size", "0", "--autopilot-rate-limit", str(AUTOPILOT_PER_SECOND)]


def run(sandbox: RunningSandbox, size: int | None = None) -> dict:
    people = size or PEOPLE
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": f"New {n}", "Company": "New", "Email": f"new{n}@example.com",
         "HasOptedOutOfEmail": n % 10 == 0} for n in range(people)])
    for api in ("salesforce", "autopilot"):
        sandbox.admin(api, "DELETE", "/calls")
    with tempfile.TemporaryDirectory() as workdir:
        project = MeltanoProject(sandbox, Path(workdir), ROOT)
        for plugin in ("TAP_AUTOPILOT", "TARGET_AUTOPILOT"):  # the plugins' default, as shipped
            project.extra_env[f"{plugin}_RATE_LIMIT_PER_SECOND"] = str(AUTOPILOT_PER_SECOND)
        start = time.perf_counter()
        project.run("salesforce-to-autopilot")
        wall = time.perf_counter() - start
    counters = {api: sandbox.calls(api) for api in ("autopilot", "salesforce")}
    calls = {api: c["total"] for api, c in counters.items()}
    by_endpoint = {f"{c['method']} {c['endpoint']}": c["count"]
                   for c in counters["autopilot"]["calls"]}
    ap_base = sandbox.autopilot_url.rsplit("/v1", 1)[0] + "/_sandbox"
    with admin_session(sandbox) as session:
        contacts = {c["Email"]: c for c in session.get(f"{ap_base}/contacts", timeout=600).json()}
    right = sum(1 for n in range(people)
                if contacts.get(f"new{n}@example.com", {}).get("unsubscribed") is (n % 10 == 0))
    result = {"leads": people, "wall_s": round(wall, 1), "autopilot_calls": calls["autopilot"],
              "salesforce_calls": calls["salesforce"],
              "autopilot_s_at_5_per_s": round(calls["autopilot"] / AUTOPILOT_PER_SECOND, 1),
              "contacts_with_their_leads_consent": right,
              "autopilot_calls_by_endpoint": by_endpoint}
    print(f"\nfirst-load: {people:,} new Leads at Autopilot's {AUTOPILOT_PER_SECOND}/s: "
          f"{result['wall_s']} s, {calls['autopilot']} Autopilot and {calls['salesforce']} "
          f"Salesforce calls; {right:,} of {people:,} contacts carry their Lead's consent")
    for endpoint, n in sorted(by_endpoint.items()):
        print(f"  {n:>6}  {endpoint}")
    print()
    return result
