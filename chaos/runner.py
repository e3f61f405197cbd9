"""One `meltano run` of a world, optionally disturbed on a timer: faults, session expiry, kill -9.

The run is its own process group, so a kill takes Meltano and every plugin process it started at
once, wherever they are: discovery, mid-read, mid-write, before or after the ledger commits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from consent_sandbox.testing import MeltanoProject

REFUSED = "already running"  # Meltano's words when a job of the same name is marked running


@dataclass(frozen=True)
class Disturbance:
    at: float  # seconds after the run started
    kind: str  # "fault" | "expire" | "kill"
    api: str = ""
    fault: dict = field(default_factory=dict)

    def describe(self) -> str:
        if self.kind == "fault":
            what = ",".join(f"{k}={v}" for k, v in self.fault.items() if k != "message")
            return f"{self.at:.1f}s {self.api} fault {what}"
        return f"{self.at:.1f}s {self.kind}"


@dataclass
class Run:
    label: str
    returncode: int
    seconds: float
    writes: int
    fired: list[Disturbance]
    forced: bool
    log: Path
    refused: bool  # Meltano would not start: a job of this name is marked running

    @property
    def killed(self) -> bool:
        return any(d.kind == "kill" for d in self.fired)

    @property
    def quiet(self) -> bool:
        return self.returncode == 0 and self.writes == 0


def run(project: MeltanoProject, args: list[str], apis: tuple[str, ...], label: str,
        disturbances: list[Disturbance] = (), force: bool = False,
        timeout: float = 900) -> Run:
    """`meltano <args>` (`run <job>` or `schedule run <schedule>`), forced with
    MELTANO_RUN_FORCE when ``force``; write calls are counted from the sandbox's counters."""
    sandbox = project.sandbox
    for api in apis:
        sandbox.admin(api, "DELETE", "/calls")
    log = project.workdir / "runs" / f"{label}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(project.meltano), *args]
    env = project.env() | ({"MELTANO_RUN_FORCE": "true"} if force else {})
    fired: list[Disturbance] = []
    start = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=project.project_root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            for disturbance in sorted(disturbances, key=lambda d: d.at):
                if _ended(process, disturbance.at - (time.monotonic() - start)):
                    break
                _fire(project, process, disturbance)
                fired.append(disturbance)
            returncode = process.wait(timeout=max(1.0, timeout - (time.monotonic() - start)))
        except subprocess.TimeoutExpired:
            _kill_group(process)
            returncode = process.wait()
        finally:
            _kill_group(process)  # nothing of a killed run may live on
    seconds = time.monotonic() - start
    for api in apis:
        sandbox.admin(api, "DELETE", "/faults")
    writes = sum(sandbox.calls(api)["writes"] for api in apis)
    refused = returncode != 0 and REFUSED in log.read_text(errors="replace")
    return Run(label, returncode, seconds, writes, fired, force, log, refused)


def _ended(process: subprocess.Popen, wait: float) -> bool:
    try:
        process.wait(timeout=max(0.0, wait))
    except subprocess.TimeoutExpired:
        return False
    return True


def _fire(project: MeltanoProject, process: subprocess.Popen, disturbance: Disturbance) -> None:
    if disturbance.kind == "kill":
        _kill_group(process)
    elif disturbance.kind == "expire":
        project.sandbox.admin("salesforce", "POST", "/expire-sessions")
    else:
        project.sandbox.admin(disturbance.api, "POST", "/faults", json=disturbance.fault)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
