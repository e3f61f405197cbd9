"""API calls per record, wall time and peak memory of each sync direction through `meltano run`."""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import requests

from consent_sandbox.testing import MeltanoProject, RunningSandbox
from tap_autopilot.feed_store import EventStore
from tap_autopilot.hook_receiver import serve
from tap_autopilot.hook_registration import register, target_url

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 10_000
FEED_SECRET = "benchmark-feed-secret-0123456789"


def _peak_child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _timed_run(project: MeltanoProject, job: str) -> float:
    start = time.perf_counter()
    project.run(job)
    return time.perf_counter() - start


def run(sandbox: RunningSandbox, size: int | None = None) -> dict[str, float]:
    people = size or PEOPLE
    with tempfile.TemporaryDirectory() as workdir:
        project = MeltanoProject(sandbox, Path(workdir), ROOT)
        project.extra_env["TARGET_AUTOPILOT_RATE_LIMIT_PER_SECOND"] = "1000"
        project.extra_env["TAP_AUTOPILOT_RATE_LIMIT_PER_SECOND"] = "1000"
        sandbox.admin("salesforce", "POST", "/records/Lead", json=[
            {"LastName": f"Bench{i}", "Company": "Bench", "Email": f"bench{i}@example.com"}
            for i in range(people)])
        for api in ("salesforce", "autopilot"):
            sandbox.admin(api, "DELETE", "/calls")
        seconds = _timed_run(project, "salesforce-to-autopilot")
        sf_read, ap_written = sandbox.calls("salesforce"), sandbox.calls("autopilot")

        # every contact unsubscribes in Autopilot: 10,000 opt-out changes for Salesforce
        _unsubscribe_everyone(sandbox, people)
        for api in ("salesforce", "autopilot"):
            sandbox.admin(api, "DELETE", "/calls")
        back_seconds = _timed_run(project, "autopilot-to-salesforce")
        sf_written, ap_scanned = sandbox.calls("salesforce"), sandbox.calls("autopilot")

        # both systems agree now: a scheduled consent-sync run must write nothing
        project.run("consent-sync")  # reads back what the last run wrote
        for api in ("salesforce", "autopilot"):
            sandbox.admin(api, "DELETE", "/calls")
        quiet_seconds = _timed_run(project, "consent-sync")
        quiet_writes = sandbox.calls("salesforce")["writes"] + sandbox.calls("autopilot")["writes"]
        quiet_ap_calls = sandbox.calls("autopilot")["total"]
        feed = _with_change_feed(sandbox, project, Path(workdir))

    per = f"per {people:,}"
    return {
        f"sf->ap Salesforce calls {per} Leads read": sf_read["total"],
        f"sf->ap Autopilot calls {per} contacts written": ap_written["total"],
        "sf->ap seconds": round(seconds, 1),
        f"ap->sf Autopilot calls {per} contacts scanned": ap_scanned["total"],
        f"ap->sf Salesforce calls {per} opt-out changes": sf_written["total"],
        f"ap->sf Salesforce write calls {per} opt-out changes": sf_written["writes"],
        "ap->sf seconds": round(back_seconds, 1),
        "quiet consent-sync write calls": quiet_writes,
        "quiet consent-sync seconds": round(quiet_seconds, 1),
        "quiet consent-sync Autopilot calls (full scan)": quiet_ap_calls,
        **feed,
        "peak RSS of the largest plugin process (MB)": round(_peak_child_rss_mb(), 1),
    }


def _with_change_feed(sandbox: RunningSandbox, project: MeltanoProject,
                      workdir: Path) -> dict[str, int]:
    """The same account with tap-autopilot reading the change feed of a hook receiver."""
    store = EventStore(workdir / "events.db")
    server = serve(store, FEED_SECRET, "127.0.0.1", 0)
    ap = sandbox.endpoints["autopilot"]
    try:
        register(sandbox.autopilot_url, ap["api_key"],
                 target_url(f"http://127.0.0.1:{server.server_address[1]}", FEED_SECRET),
                 sandbox.ca_bundle)
        project.extra_env["TAP_AUTOPILOT_EVENTS_DB"] = str(store.path)
        project.run("consent-sync")  # the feed's first run is its safety-net full scan
        for api in ("salesforce", "autopilot"):
            sandbox.admin(api, "DELETE", "/calls")
        project.run("consent-sync")
        idle_ap, idle_sf = sandbox.calls("autopilot")["total"], sandbox.calls("salesforce")["total"]
        sandbox.admin("autopilot", "POST", "/contacts/bench1@example.com",
                      json={"unsubscribed": False})  # one person changes their mind
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                d["email"] == "bench1@example.com"
                for d in sandbox.admin("autopilot", "GET", "/hooks/deliveries").json()):
            time.sleep(0.2)
        for api in ("salesforce", "autopilot"):
            sandbox.admin(api, "DELETE", "/calls")
        project.run("consent-sync")
        one_ap = sandbox.calls("autopilot")["total"]
    finally:
        project.extra_env.pop("TAP_AUTOPILOT_EVENTS_DB", None)
        server.shutdown()
        server.server_close()
        store.close()
    return {"idle consent-sync Autopilot calls (change feed)": idle_ap,
            "idle consent-sync Salesforce calls (change feed)": idle_sf,
            "consent-sync after 1 Autopilot change, Autopilot calls (change feed)": one_ap}


def _unsubscribe_everyone(sandbox: RunningSandbox, people: int) -> None:
    """As people would, in bulk: `POST /contacts` of 100 with `unsubscribed: true`."""
    ap = sandbox.endpoints["autopilot"]
    with requests.Session() as session:
        session.verify, session.trust_env = sandbox.ca_bundle, False
        session.headers["autopilotapikey"] = ap["api_key"]
        for start in range(0, people, 100):
            contacts = [{"Email": f"bench{i}@example.com", "unsubscribed": True}
                        for i in range(start, min(start + 100, people))]
            session.post(f"{ap['base_url']}/contacts", json={"contacts": contacts},
                         timeout=60).raise_for_status()
