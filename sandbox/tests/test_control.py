"""`consent-sandbox start/stop/env`: taken ports become free ones, and a recorded pid counts only
while it is still this folder's sandbox serving its ports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from consent_sandbox import control
from consent_sandbox.tls import ensure_certificates

pytestmark = pytest.mark.xdist_group("sandbox-control")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def a_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "sbx"
    yield folder
    control.stop(folder)


def start(state_dir: Path, **ports: int) -> dict:
    wanted = {"salesforce": 0, "autopilot": 0, "activecampaign": 0, **ports}
    return control.start(state_dir, [], wanted, timeout=60)


def test_a_taken_port_becomes_a_free_one_and_env_names_it(state_dir, taken_port, capsys):
    free = a_free_port()
    endpoints = start(state_dir, salesforce=taken_port, autopilot=free)
    ports = control.endpoint_ports(endpoints)
    assert ports["salesforce"] not in (taken_port, 0)
    assert ports["autopilot"] == free  # a wanted port that is free is kept
    assert f"port {taken_port} is taken: Salesforce gets a free port" in capsys.readouterr().out

    env = dict(line.removeprefix("export ").split("=", 1) for line in control.env_lines(state_dir))
    assert env == {
        "CONSENTSYNC_SANDBOX_SALESFORCE_PORT": str(ports["salesforce"]),
        "CONSENTSYNC_SANDBOX_AUTOPILOT_PORT": str(free),
        "CONSENTSYNC_SANDBOX_ACTIVECAMPAIGN_PORT": str(ports["activecampaign"]),
        "CONSENTSYNC_SANDBOX_CA_BUNDLE": str((state_dir / "ca.pem").resolve()),
    }

    pid = control.running_pid(state_dir)
    assert pid is not None
    assert start(state_dir) == endpoints  # already running: the same sandbox, the same ports
    assert "sandbox already running" in capsys.readouterr().out
    assert control.running_pid(state_dir) == pid


def test_a_killed_sandbox_is_not_taken_for_running_and_start_replaces_it(state_dir, capsys):
    start(state_dir)
    old = control.running_pid(state_dir)
    os.kill(old, signal.SIGKILL)
    for _ in range(100):
        if control.sandbox_pid(state_dir) is None:
            break
        time.sleep(0.05)
    assert control.running_pid(state_dir) is None
    with pytest.raises(SystemExit, match="no sandbox running"):
        control.env_lines(state_dir)

    start(state_dir)
    assert "sandbox started" in capsys.readouterr().out
    assert control.running_pid(state_dir) not in (None, old)


def test_a_pid_now_used_by_another_program_is_neither_running_nor_stopped(tmp_path, sandbox):
    folder = tmp_path / "stale"
    folder.mkdir()
    ensure_certificates(folder)
    # the endpoints of a sandbox that ran here, and a pid since given to another program
    shutil.copy(sandbox.state_dir / "endpoints.json", folder / "endpoints.json")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (folder / "sandbox.pid").write_text(str(other.pid))
        assert control.is_sandbox_of(other.pid, folder) in (False, None)
        assert control.sandbox_pid(folder) is None
        assert control.running_pid(folder) is None
        control.stop(folder)
        assert other.poll() is None  # never signalled
        assert not (folder / "sandbox.pid").exists()
    finally:
        other.kill()
        other.wait()


def test_another_folders_sandbox_on_the_recorded_ports_is_not_ours(tmp_path, sandbox):
    (sandbox.state_dir / "sandbox.pid").write_text(str(sandbox.process.pid))
    assert control.running_pid(sandbox.state_dir) == sandbox.process.pid
    assert control.is_sandbox_of(sandbox.process.pid, sandbox.state_dir) in (True, None)

    # a folder whose records name that sandbox's pid and ports, with a CA of its own
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    ensure_certificates(folder)
    (folder / "endpoints.json").write_text(json.dumps(sandbox.endpoints))
    (folder / "sandbox.pid").write_text(str(sandbox.process.pid))
    assert control.running_pid(folder) is None
    port = control.endpoint_ports(sandbox.endpoints)["salesforce"]
    assert control.serves_with_our_certificate(port, sandbox.state_dir / "ca.pem")
    assert not control.serves_with_our_certificate(port, folder / "ca.pem")


def test_port_is_free_tells_a_listening_port_from_a_free_one(taken_port):
    assert not control.port_is_free(taken_port)
    assert control.port_is_free(a_free_port())
    assert control.choose_ports({"autopilot": taken_port}) == {"autopilot": 0}
