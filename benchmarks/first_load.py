"""The first load at Autopilot's documented pace: N new Leads through `salesforce-to-autopilot`.

`python -m benchmarks first-load --size N` (default 2,300): an empty sandbox that enforces
Autopilot's 5 requests a second (its default, as the real API) gets N new Leads, 1 in 10 opted
out; one `meltano run salesforce-to-autopilot` with the plugins' default settings carries them.
The figures: wall time, Autopilot and Salesforce calls, that every Lead's person is an
Autopilot contact with the Lead's consent, and the run's CPU (every process it started) as a
ratio to a trivial singer-sdk tap -> mapper -> target moving N records through `meltano run` in
the same benchmark run. Waiting on the pace costs no CPU, so the ratio is the one of an
unthrottled run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from consent_sandbox.testing import MeltanoProject, RunningSandbox

from .scale import ROOT, admin_session, run_job, run_trivial
from .trivial_pipeline import project as trivial

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
    timeout = max(600.0, people * 0.1)
    with tempfile.TemporaryDirectory() as workdir:
        yardstick = run_trivial(trivial.write_project(Path(workdir) / "trivial"), people, timeout)
        project = MeltanoProject(sandbox, Path(workdir) / "consent", ROOT)
        (Path(workdir) / "consent").mkdir()
        for plugin in ("TAP_AUTOPILOT", "TARGET_AUTOPILOT"):  # the plugins' default, as shipped
            project.extra_env[f"{plugin}_RATE_LIMIT_PER_SECOND"] = str(AUTOPILOT_PER_SECOND)
        measured = run_job(sandbox, project, "salesforce-to-autopilot", timeout)
    wall = measured.wall_s
    calls = {api: measured.calls[api] for api in ("autopilot", "salesforce")}
    by_endpoint = measured.by_endpoint["autopilot"]
    ap_base = sandbox.autopilot_url.rsplit("/v1", 1)[0] + "/_sandbox"
    with admin_session(sandbox) as session:
        contacts = {c["Email"]: c for c in session.get(f"{ap_base}/contacts", timeout=600).json()}
    right = sum(1 for n in range(people)
                if contacts.get(f"new{n}@example.com", {}).get("unsubscribed") is (n % 10 == 0))
    result = {"leads": people, "wall_s": round(wall, 1), "autopilot_calls": calls["autopilot"],
              "salesforce_calls": calls["salesforce"],
              "autopilot_s_at_5_per_s": round(calls["autopilot"] / AUTOPILOT_PER_SECOND, 1),
              "contacts_with_their_leads_consent": right,
              "cpu_s": round(measured.cpu_s, 1), "trivial_cpu_s": round(yardstick.cpu_s, 1),
              "cpu_x_trivial": round(measured.cpu_s / yardstick.cpu_s, 2),
              "peak_rss_mb": measured.peak_rss_mb,
              "autopilot_calls_by_endpoint": by_endpoint}
    print(f"\nfirst-load: {people:,} new Leads at Autopilot's {AUTOPILOT_PER_SECOND}/s: "
          f"{result['wall_s']} s, {calls['autopilot']} Autopilot and {calls['salesforce']} "
          f"Salesforce calls; {right:,} of {people:,} contacts carry their Lead's consent; CPU "
          f"{result['cpu_s']} s, {result['cpu_x_trivial']}x the trivial pipeline's "
          f"{result['trivial_cpu_s']} s for as many records")
    print("  peak RSS (MB): " + ", ".join(f"{k} {v}" for k, v in measured.peak_rss_mb.items()))
    for endpoint, n in sorted(by_endpoint.items()):
        print(f"  {n:>6}  {endpoint}")
    print()
    return result
