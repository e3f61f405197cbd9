"""The scale suite: each direction, idle and 1% changed at N people, beside a trivial pipeline.

`python -m benchmarks scale --size N`: the sandbox starts with N demo people (`--demo-size`, both
systems overlapping as in a real org), then real `meltano run`s of each job, in order:
first load of each direction, a settling `consent-sync` (it reads back what the first loads
wrote, and is the change feed's first, full-scan run), an idle `consent-sync` with the change feed,
and one after 1% of the people opted out on each side (through the sandbox admin surface, as
users would). Beside them, in the same run, a trivial singer-sdk tap -> mapper -> target moving N
records through `meltano run` (benchmarks/trivial_pipeline), and its start-up with no records.

`--new-people`: the demo people start in Salesforce alone (`--demo-systems salesforce`), so
the first load creates every Autopilot contact through bulk upserts (a contact's second list
still joins by call: `_autopilot_list` names one). With overlapping data a
first load joins each existing contact to the list, one call each (the API's floor), which at
1,000,000 people takes hours even unthrottled; this variant is how 1,000,000 is measured.

Per step: API calls (total and per 10,000 people) of each system, wall time, CPU of every process
the run started (children included) and of the sandbox, each as a ratio to the trivial pipeline's,
peak RSS per plugin executable, and the time the calls take at the documented rate limits.
Absolute times are noise on a shared machine; the ratios are the figures.
"""

from __future__ import annotations

import random
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from consent_sandbox.testing import MeltanoProject, RunningSandbox
from tap_autopilot.feed_store import EventStore
from tap_autopilot.hook_receiver import serve
from tap_autopilot.hook_registration import register, target_url

from .process_tree import PeakMemory, cpu_seconds
from .trivial_pipeline import project as trivial

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 10_000
FEED_SECRET = "benchmark-scale-feed-secret-0123"
AUTOPILOT_PER_SECOND = 5  # documented (ActiveCampaign's is the same)
SALESFORCE_DAILY = 100_000  # Enterprise Edition's base DailyApiRequests, the sandbox's default
CHANGED_SHARE = 0.01
NEW_PEOPLE_SANDBOX_ARGS = ["--demo-systems", "salesforce"]
SCHEDULE_SECONDS = 60  # the one-minute schedule of the latency step


def sandbox_args(size: int | None) -> list[str]:
    return ["--demo-size", str(size or PEOPLE)]


@dataclass
class Measured:
    wall_s: float
    cpu_s: float  # every process the run started, children included
    sandbox_cpu_s: float
    peak_rss_mb: dict[str, float]
    cpu_by_process: dict[str, float] = field(default_factory=dict)  # sampled split of cpu_s
    calls: dict[str, int] = field(default_factory=dict)  # system -> API calls
    by_endpoint: dict[str, dict[str, int]] = field(default_factory=dict)
    output: str = ""


def _measure(cmd: list[str], cwd: Path, env: dict[str, str], sandbox: RunningSandbox | None,
             timeout: float) -> Measured:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sandbox_before = cpu_seconds(sandbox.process.pid) if sandbox else 0.0
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    with PeakMemory(process.pid) as memory:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            raise AssertionError(f"{' '.join(cmd)} timed out:\n{output[-4000:]}") from None
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({process.returncode}):\n{output[-8000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sandbox_cpu = cpu_seconds(sandbox.process.pid) - sandbox_before if sandbox else 0.0
    return Measured(wall, cpu, sandbox_cpu, memory.peaks_mb, memory.cpu_by_name, output=output)


def run_job(sandbox: RunningSandbox, project: MeltanoProject, job: str,
             timeout: float) -> Measured:
    for api in ("salesforce", "autopilot"):
        sandbox.admin(api, "DELETE", "/calls")
    env = {**project.env(), "MELTANO_RUN_FORCE": "true"}
    measured = _measure([str(project.meltano), "run", job], project.project_root, env, sandbox,
                        timeout)
    for api in ("autopilot", "salesforce"):
        counters = sandbox.calls(api)
        measured.calls[api], measured.calls[f"{api}_writes"] = counters["total"], counters["writes"]
        measured.by_endpoint[api] = {f"{c['method']} {c['endpoint']}": c["count"]
                                     for c in counters["calls"]}
    return measured


def run_trivial(folder: Path, records: int, timeout: float, job: str = trivial.JOB) -> Measured:
    return _measure([str(trivial.meltano()), "run", job], folder,
                    trivial.env(folder, records), None, timeout)


def admin_session(sandbox: RunningSandbox) -> requests.Session:
    session = requests.Session()
    session.verify, session.trust_env = sandbox.ca_bundle, False
    return session


def _opt_out_one_percent(sandbox: RunningSandbox, people: int) -> tuple[int, int, set[str]]:
    """Opt-outs by users on each side, different people on each: (Salesforce, Autopilot, emails
    changed in Autopilot)."""
    rng = random.Random(10)
    changes = max(1, round(people * CHANGED_SHARE))
    sf_base = sandbox.salesforce_url + "/_sandbox"
    ap_base = sandbox.autopilot_url.rsplit("/v1", 1)[0] + "/_sandbox"
    with admin_session(sandbox) as session:
        rows = [(obj, row) for obj in ("Lead", "Contact")
                for row in session.get(f"{sf_base}/records/{obj}", timeout=600).json()
                if not row.get("IsDeleted") and not row.get("HasOptedOutOfEmail")
                and not row.get("IsConverted") and "@" in (row.get("Email") or "")]
        picked_sf = rng.sample(rows, min(changes, len(rows)))
        sf_emails = {row["Email"].lower() for _, row in picked_sf}
        for obj, row in picked_sf:
            session.patch(f"{sf_base}/records/{obj}/{row['Id']}",
                          json={"HasOptedOutOfEmail": True}, timeout=60).raise_for_status()
        contacts = [c for c in session.get(f"{ap_base}/contacts", timeout=600).json()
                    if not c.get("unsubscribed") and "@" in (c.get("Email") or "")
                    and c["Email"].lower() not in sf_emails]
        picked_ap = rng.sample(contacts, min(changes, len(contacts)))
        for contact in picked_ap:
            session.post(f"{ap_base}/contacts/{contact['contact_id']}",
                         json={"unsubscribed": True}, timeout=60).raise_for_status()
    return len(picked_sf), len(picked_ap), {c["Email"].lower() for c in picked_ap}


@dataclass
class Latency:
    """One opt-out made in Autopilot until its Salesforce records show it."""

    run: Measured
    hook_s: float  # the opt-out until its hook was stored
    worst_s: float  # with the one-minute schedule: a whole interval's wait, the hook, the run


def _opt_out_latency(sandbox: RunningSandbox, project: MeltanoProject,
                     timeout: float) -> Latency:
    """A person opts out in Autopilot; the next scheduled consent-sync carries it to Salesforce.
    The worst case waits a whole schedule interval for that run; the run's calls at the
    documented limits are in its row (`AP s@5/s`)."""
    ap_base = sandbox.autopilot_url.rsplit("/v1", 1)[0] + "/_sandbox"
    with admin_session(sandbox) as session:
        in_salesforce = {(row.get("Email") or "").lower() for obj in ("Lead", "Contact")
                         for row in session.get(f"{sandbox.salesforce_url}/_sandbox/records/"
                                                f"{obj}", timeout=600).json()
                         if not row.get("IsDeleted") and not row.get("IsConverted")}
        contact = next(c for c in session.get(f"{ap_base}/contacts", timeout=600).json()
                       if not c.get("unsubscribed") and not c.get("mail_hardbounced")
                       and (c.get("Email") or "").lower() in in_salesforce)
        start = time.perf_counter()
        session.post(f"{ap_base}/contacts/{contact['contact_id']}", json={"unsubscribed": True},
                     timeout=60).raise_for_status()
    _wait_for_hooks(sandbox, {contact["Email"].lower()})
    hook_s = time.perf_counter() - start
    run = run_job(sandbox, project, "consent-sync", timeout)
    with admin_session(sandbox) as session:
        rows = [row for obj in ("Lead", "Contact")
                for row in session.get(f"{sandbox.salesforce_url}/_sandbox/records/{obj}",
                                       timeout=600).json()
                if (row.get("Email") or "").lower() == contact["Email"].lower()
                and not row.get("IsDeleted") and not row.get("IsConverted")]
    if not rows or not all(row.get("HasOptedOutOfEmail") for row in rows):
        raise AssertionError(f"{contact['Email']}'s opt-out did not reach Salesforce: {rows}")
    calls_s = run.calls.get("autopilot", 0) / AUTOPILOT_PER_SECOND
    return Latency(run, round(hook_s, 1),
                   round(SCHEDULE_SECONDS + hook_s + run.wall_s + calls_s, 1))


def _wait_for_hooks(sandbox: RunningSandbox, emails: set[str], timeout: float = 300) -> int:
    """Until the sandbox delivered (or gave up on) a hook call for each changed contact."""
    deadline = time.monotonic() + timeout
    while True:
        seen = {(d.get("email") or "").lower()
                for path in ("/hooks/deliveries", "/hooks/dropped")
                for d in sandbox.admin("autopilot", "GET", path).json()}
        if emails <= seen or time.monotonic() > deadline:
            return len(emails & seen)
        time.sleep(0.5)


def _row(step: str, m: Measured, people: int, yardstick: Measured) -> dict:
    ap, sf = m.calls.get("autopilot"), m.calls.get("salesforce")
    per_10k = 10_000 / people
    row = {"step": step, "wall_s": round(m.wall_s, 1), "cpu_s": round(m.cpu_s, 1),
           "sandbox_cpu_s": round(m.sandbox_cpu_s, 1),
           "wall_x_trivial": round(m.wall_s / yardstick.wall_s, 2),
           "cpu_x_trivial": round(m.cpu_s / yardstick.cpu_s, 2),
           "peak_rss_mb": m.peak_rss_mb, "cpu_s_by_process": m.cpu_by_process,
           "max_peak_rss_mb": max(m.peak_rss_mb.values(), default=0.0)}
    if ap is not None:
        row.update({
            "autopilot_calls": ap, "salesforce_calls": sf,
            "autopilot_writes": m.calls["autopilot_writes"],
            "salesforce_writes": m.calls["salesforce_writes"],
            "calls_by_endpoint": m.by_endpoint,
            "autopilot_calls_per_10k": round(ap * per_10k, 1),
            "salesforce_calls_per_10k": round(sf * per_10k, 1),
            "autopilot_s_at_5_per_s": round(ap / AUTOPILOT_PER_SECOND, 1),
            "salesforce_daily_share_pct": round(100 * sf / SALESFORCE_DAILY, 3)})
    return row


COLUMNS = [("step", "step", 50), ("autopilot_calls", "AP calls", 9),
           ("autopilot_calls_per_10k", "AP/10k", 8), ("salesforce_calls", "SF calls", 9),
           ("salesforce_calls_per_10k", "SF/10k", 8), ("autopilot_s_at_5_per_s", "AP s@5/s", 9),
           ("salesforce_daily_share_pct", "SF %day", 8), ("wall_s", "wall s", 7),
           ("wall_x_trivial", "wall x", 7), ("cpu_s", "CPU s", 7), ("cpu_x_trivial", "CPU x", 6),
           ("sandbox_cpu_s", "sbx CPU", 8), ("max_peak_rss_mb", "RSS MB", 7)]


def table(rows: list[dict]) -> str:
    lines = [" ".join(f"{title:<{width}}" for _, title, width in COLUMNS)]
    for row in rows:
        lines.append(" ".join(f"{str(row.get(key, '-')):<{width}}" for key, _, width in COLUMNS))
    lines.append("peak RSS per process (MB):")
    lines += [f"  {row['step']}: " + ", ".join(f"{k} {v}" for k, v in row["peak_rss_mb"].items())
              for row in rows]
    lines.append("CPU s per process (sampled):")
    lines += [f"  {row['step']}: " + ", ".join(f"{k} {v}" for k, v in
                                               row.get("cpu_s_by_process", {}).items())
              for row in rows]
    return "\n".join(lines)


def run(sandbox: RunningSandbox, size: int | None = None, new_people: bool = False) -> dict:
    people = size or PEOPLE
    first = "first load of new people" if new_people else "first load"
    timeout = max(600.0, people * 0.1)
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        folder = trivial.write_project(work / "trivial")
        trivial_load = run_trivial(folder, people, timeout)
        trivial_idle = run_trivial(folder, 0, timeout)
        trivial_idle_two_way = run_trivial(folder, 0, timeout, trivial.JOB_TWO_WAY)

        project = MeltanoProject(sandbox, work / "consent", ROOT)
        (work / "consent").mkdir()
        for plugin in ("TAP_AUTOPILOT", "TARGET_AUTOPILOT"):  # the sandbox is unthrottled
            project.extra_env[f"{plugin}_RATE_LIMIT_PER_SECOND"] = "1000"
        steps: list[tuple[str, Measured]] = [
            (f"{first} salesforce-to-autopilot",
             run_job(sandbox, project, "salesforce-to-autopilot", timeout)),
            (f"{first} autopilot-to-salesforce",
             run_job(sandbox, project, "autopilot-to-salesforce", timeout))]

        store = EventStore(work / "events.db")
        server = serve(store, FEED_SECRET, "127.0.0.1", 0)
        try:
            register(sandbox.autopilot_url, sandbox.endpoints["autopilot"]["api_key"],
                     target_url(f"http://127.0.0.1:{server.server_address[1]}", FEED_SECRET),
                     sandbox.ca_bundle)
            project.extra_env["TAP_AUTOPILOT_EVENTS_DB"] = str(store.path)
            steps.append(("settling consent-sync (feed's full scan)",
                          run_job(sandbox, project, "consent-sync", timeout)))
            steps.append(("idle consent-sync (change feed)",
                          run_job(sandbox, project, "consent-sync", timeout)))
            sf_changed, ap_changed, emails = _opt_out_one_percent(sandbox, people)
            hooks = _wait_for_hooks(sandbox, emails)
            steps.append(("consent-sync after 1% opted out each side",
                          run_job(sandbox, project, "consent-sync", timeout)))
            latency = _opt_out_latency(sandbox, project, timeout)
            steps.append(("consent-sync after one Autopilot opt-out", latency.run))
        finally:
            server.shutdown()
            server.server_close()
            store.close()

    rows = [_row(step, m, people, trivial_load) for step, m in steps]
    idle = next(r for r in rows if r["step"].startswith("idle"))
    idle["wall_x_trivial_startup"] = round(steps[3][1].wall_s / trivial_idle.wall_s, 2)
    idle["cpu_x_trivial_startup"] = round(steps[3][1].cpu_s / trivial_idle.cpu_s, 2)
    idle["cpu_x_trivial_two_way_startup"] = round(steps[3][1].cpu_s / trivial_idle_two_way.cpu_s,
                                                  2)
    rows += [_row(f"trivial pipeline, {people:,} records", trivial_load, people, trivial_load),
             _row("trivial pipeline start-up (0 records)", trivial_idle, people, trivial_load),
             _row("trivial two-way start-up (the pipeline twice in one job, 0 records)",
                  trivial_idle_two_way, people, trivial_load)]
    print(f"\nscale: {people:,} people{' (new to Autopilot)' if new_people else ''}; 1% step: "
          f"{sf_changed} Salesforce and {ap_changed} Autopilot opt-outs, {hooks} hook calls seen")
    print(table(rows))
    print(f"idle consent-sync vs trivial start-up: wall x{idle['wall_x_trivial_startup']}, "
          f"CPU x{idle['cpu_x_trivial_startup']}; vs the trivial pipeline twice in one job "
          f"(consent-sync runs one per direction): CPU x{idle['cpu_x_trivial_two_way_startup']}\n")
    print(f"opt-out latency (Autopilot -> Salesforce, one-minute schedule): hook stored in "
          f"{latency.hook_s} s, run {steps[-1][1].wall_s:.1f} s; worst case {latency.worst_s} s\n")
    return {"people": people, "new_people": new_people, "salesforce_opt_outs": sf_changed,
            "autopilot_opt_outs": ap_changed,
            "hook_calls_seen": hooks, "opt_out_latency_worst_s": latency.worst_s,
            "opt_out_hook_s": latency.hook_s, "rows": rows}
