"""Start, stop and report on a detached sandbox (what `make sync` uses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

PID_FILE = "sandbox.pid"
ENDPOINTS_FILE = "endpoints.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def running_pid(state_dir: Path) -> int | None:
    pid_file = state_dir / PID_FILE
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().strip() or 0)
    return pid if pid and _alive(pid) else None


def wait_for_endpoints(state_dir: Path, process: subprocess.Popen, timeout: float) -> dict:
    path = state_dir / ENDPOINTS_FILE
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the sandbox did not start; see {state_dir / 'sandbox.log'}")
        time.sleep(0.05)
    return json.loads(path.read_text())


def start(state_dir: Path, serve_args: list[str], timeout: float = 120) -> dict:
    """Start a sandbox in the background unless one already runs for this state folder."""
    state_dir.mkdir(parents=True, exist_ok=True)
    if running_pid(state_dir):
        print(f"sandbox already running (state in {state_dir})")
        return json.loads((state_dir / ENDPOINTS_FILE).read_text())
    (state_dir / ENDPOINTS_FILE).unlink(missing_ok=True)
    log = open(state_dir / "sandbox.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [sys.executable, "-m", "consent_sandbox.cli", "serve", "--state-dir", str(state_dir),
         *serve_args],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    (state_dir / PID_FILE).write_text(str(process.pid))
    endpoints = wait_for_endpoints(state_dir, process, timeout)
    ac = endpoints.get("activecampaign", {}).get("base_url")
    print(f"sandbox started: Salesforce {endpoints['salesforce']['instance_url']}, "
          f"Autopilot {endpoints['autopilot']['base_url']}"
          f"{f', ActiveCampaign {ac}' if ac else ''} (state in {state_dir})")
    return endpoints


def stop(state_dir: Path) -> None:
    pid = running_pid(state_dir)
    if pid is None:
        print("no sandbox running")
        return
    os.kill(pid, signal.SIGINT)
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    (state_dir / PID_FILE).unlink(missing_ok=True)
    print("sandbox stopped")


def status(state_dir: Path) -> None:
    """Print the API calls each stand-in has served since it started."""
    if running_pid(state_dir) is None:
        print("no sandbox running")
        return
    endpoints = json.loads((state_dir / ENDPOINTS_FILE).read_text())
    bases = {
        "Salesforce": endpoints["salesforce"]["instance_url"],
        "Autopilot": endpoints["autopilot"]["base_url"].rsplit("/v1", 1)[0],
    }
    if "activecampaign" in endpoints:
        bases["ActiveCampaign"] = endpoints["activecampaign"]["base_url"].rsplit("/api/3", 1)[0]
    for name, base in bases.items():
        calls = requests.get(f"{base}/_sandbox/calls", verify=endpoints["ca_bundle"], timeout=30)
        body = calls.json()
        print(f"{name}: {body['total']} API calls ({body['writes']} writes)")
        for row in body["calls"]:
            print(f"  {row['count']:>6}  {row['method']:<6} {row['endpoint']}")
