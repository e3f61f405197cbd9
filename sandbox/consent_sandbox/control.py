"""Start, stop and report on a detached sandbox (what `make sync` uses)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import requests

from .settings import HOST
from .tls import CA_FILE

PID_FILE = "sandbox.pid"
ENDPOINTS_FILE = "endpoints.json"
# the stand-ins in endpoints.json, with the `serve` flag of each one's port
APIS = {"salesforce": "--salesforce-port", "autopilot": "--autopilot-port",
        "activecampaign": "--activecampaign-port"}
LABELS = {"salesforce": "Salesforce", "autopilot": "Autopilot", "activecampaign": "ActiveCampaign"}
# what `consent-sandbox env` exports; meltano.yml's `sandbox` environment reads these
ENV_PREFIX = "CONSENTSYNC_SANDBOX_"


# sandboxes this process started (a `start` called in-process, as by tests): an exited child stays
# a zombie, which os.kill still finds, until it is waited for
_STARTED: dict[int, subprocess.Popen] = {}


def _alive(pid: int) -> bool:
    if pid in _STARTED:
        return _STARTED[pid].poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours
    return True


def recorded_pid(state_dir: Path) -> int | None:
    try:
        text = (state_dir / PID_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def read_endpoints(state_dir: Path) -> dict | None:
    try:
        return json.loads((state_dir / ENDPOINTS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def endpoint_ports(endpoints: dict) -> dict[str, int]:
    """The port of each stand-in named in an endpoints document."""
    urls = {"salesforce": endpoints["salesforce"]["instance_url"],
            "autopilot": endpoints["autopilot"]["base_url"]}
    if "activecampaign" in endpoints:
        urls["activecampaign"] = endpoints["activecampaign"]["base_url"]
    return {api: int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
            for api, url in urls.items()}


def is_sandbox_of(pid: int, state_dir: Path) -> bool | None:
    """Whether process ``pid`` is `consent-sandbox serve` of ``state_dir``; None where the
    system does not say (no /proc)."""
    proc = Path("/proc") / str(pid)
    if not Path("/proc/self/cmdline").exists():
        return None
    try:
        args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        cwd = Path(os.readlink(proc / "cwd"))
    except OSError:  # gone, or another user's process
        return False
    if "consent_sandbox.cli" not in args or "serve" not in args or "--state-dir" not in args:
        return False
    index = args.index("--state-dir") + 1
    return index < len(args) and (cwd / args[index]).resolve() == state_dir.resolve()


def serves_with_our_certificate(port: int, ca_bundle: Path, timeout: float = 3) -> bool:
    """A TLS handshake on ``port`` that our CA verifies: only this folder's sandbox holds the key
    (another program, or a sandbox of another folder, on a recorded port fails it)."""
    try:
        context = ssl.create_default_context(cafile=str(ca_bundle))
        with socket.create_connection((HOST, port), timeout=timeout) as raw, \
                context.wrap_socket(raw, server_hostname=HOST):
            return True
    except (OSError, ssl.SSLError):
        return False


def serves_recorded_ports(state_dir: Path) -> bool:
    endpoints = read_endpoints(state_dir)
    if endpoints is None:
        return False
    ca = state_dir / CA_FILE
    return all(serves_with_our_certificate(port, ca)
               for port in endpoint_ports(endpoints).values())


def sandbox_pid(state_dir: Path) -> int | None:
    """The recorded process, if it is still this folder's sandbox (a pid file that survived a
    reboot, or a pid the system gave to another program since, is not)."""
    pid = recorded_pid(state_dir)
    if pid is None or not _alive(pid):
        return None
    ours = is_sandbox_of(pid, state_dir)
    if ours is None:  # no /proc: only the sandbox's own certificate on its ports tells
        ours = serves_recorded_ports(state_dir)
    return pid if ours else None


def running_pid(state_dir: Path) -> int | None:
    """The recorded process, if it is this folder's sandbox and serves every recorded port."""
    pid = sandbox_pid(state_dir)
    return pid if pid is not None and serves_recorded_ports(state_dir) else None


def port_is_free(port: int) -> bool:
    """Whether the sandbox could bind ``port`` now (it binds with SO_REUSEADDR as here, so a port
    that only has connections in TIME_WAIT counts as free)."""
    if port == 0:
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def choose_ports(wanted: dict[str, int]) -> dict[str, int]:
    """The wanted port of each stand-in where it is free, else 0 (a free one)."""
    chosen = {}
    for api, port in wanted.items():
        if port_is_free(port):
            chosen[api] = port
        else:
            print(f"port {port} is taken: {LABELS[api]} gets a free port")
            chosen[api] = 0
    return chosen


def wait_for_endpoints(state_dir: Path, process: subprocess.Popen, timeout: float) -> dict:
    path = state_dir / ENDPOINTS_FILE
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the sandbox did not start; see {state_dir / 'sandbox.log'}")
        time.sleep(0.05)
    return json.loads(path.read_text())


def _wait_while_starting(state_dir: Path, timeout: float) -> bool:
    """Whether this folder's sandbox, alive but not (yet) serving, comes up: another `start` may
    have launched it a moment ago. Raises when it stays silent."""
    pid = sandbox_pid(state_dir)
    # a process that wrote its endpoints and still does not answer is stuck, not starting
    deadline = time.monotonic() + (10 if read_endpoints(state_dir) else timeout)
    while pid is not None and time.monotonic() < deadline:
        if running_pid(state_dir):
            return True
        time.sleep(0.2)
        pid = sandbox_pid(state_dir)
    if pid is not None:
        raise SystemExit(f"the sandbox of {state_dir} (pid {pid}) does not answer on its ports; "
                         f"stop it with `consent-sandbox stop --state-dir {state_dir}`")
    return False


def start(state_dir: Path, serve_args: list[str], ports: dict[str, int] | None = None,
          timeout: float = 120) -> dict:
    """Start a sandbox in the background unless one already runs for this state folder.

    ``ports`` are the wanted port of each stand-in (`APIS`); one that is taken becomes a free
    one, and endpoints.json (`consent-sandbox env`) says which.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    if running_pid(state_dir):
        print(f"sandbox already running (state in {state_dir})")
        return json.loads((state_dir / ENDPOINTS_FILE).read_text())
    if _wait_while_starting(state_dir, timeout):
        print(f"sandbox already running (state in {state_dir})")
        return json.loads((state_dir / ENDPOINTS_FILE).read_text())
    # whatever the files say is stale now: no process of ours serves them
    (state_dir / PID_FILE).unlink(missing_ok=True)
    (state_dir / ENDPOINTS_FILE).unlink(missing_ok=True)
    port_args = [f"{APIS[api]}={port}" for api, port in choose_ports(ports or {}).items()]
    log = open(state_dir / "sandbox.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        # an absolute state folder, so that `is_sandbox_of` can tell the process is ours
        [sys.executable, "-m", "consent_sandbox.cli", "serve", "--state-dir",
         str(state_dir.resolve()), *serve_args, *port_args],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    _STARTED[process.pid] = process
    (state_dir / PID_FILE).write_text(str(process.pid))
    endpoints = wait_for_endpoints(state_dir, process, timeout)
    ac = endpoints.get("activecampaign", {}).get("base_url")
    print(f"sandbox started: Salesforce {endpoints['salesforce']['instance_url']}, "
          f"Autopilot {endpoints['autopilot']['base_url']}"
          f"{f', ActiveCampaign {ac}' if ac else ''} (state in {state_dir})")
    return endpoints


def stop(state_dir: Path) -> None:
    pid = sandbox_pid(state_dir)
    if pid is None:
        (state_dir / PID_FILE).unlink(missing_ok=True)  # never signal a pid that is not ours
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


def env_lines(state_dir: Path) -> list[str]:
    """`export` lines with the running sandbox's ports and CA bundle, for a shell's `eval`."""
    if running_pid(state_dir) is None:
        raise SystemExit(f"no sandbox running for {state_dir}; start it with "
                         f"`consent-sandbox start --state-dir {state_dir}`")
    endpoints = json.loads((state_dir / ENDPOINTS_FILE).read_text())
    values = {f"{ENV_PREFIX}{api.upper()}_PORT": str(port)
              for api, port in endpoint_ports(endpoints).items()}
    values[f"{ENV_PREFIX}CA_BUNDLE"] = endpoints["ca_bundle"]
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]


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
