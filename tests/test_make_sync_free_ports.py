"""`make sync` when the sandbox's default ports 8443-8445 are taken: the sandbox starts on free
ports and meltano.yml's `sandbox` environment is pointed at them.

The recipe runs for real (`make sync`), with `MELTANO` swapped for a probe that records what the
recipe hands to Meltano and asks the real Meltano for the expanded plugin config in its place: a
whole two-way run is what the other end-to-end tests cover.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORTS = (8443, 8444, 8445)

PROBE = """\
import json, os, subprocess, sys
args = sys.argv[1:]
config = subprocess.run([{meltano!r}, args[0], "config", "print", "tap-salesforce-optout"],
                        capture_output=True, text=True, check=True).stdout
with open({record!r}, "w") as record:
    json.dump({{"args": args, "config": json.loads(config),
               "env": {{k: v for k, v in os.environ.items()
                       if k.startswith("CONSENTSYNC_SANDBOX_") or k == "MELTANO_RUN_FORCE"}}}},
              record)
"""


@pytest.fixture
def default_ports_taken() -> Iterator[None]:
    """Listen on whichever default port is free (one that is not is taken already)."""
    with ExitStack() as stack:
        for port in DEFAULT_PORTS:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            sock.listen()
        yield


@pytest.mark.xdist_group("make-sync-ports")
def test_make_sync_starts_the_sandbox_on_free_ports_and_meltano_uses_them(tmp_path,
                                                                          default_ports_taken):
    sandbox_dir, record = tmp_path / "sbx", tmp_path / "record.json"
    probe = tmp_path / "meltano-probe"
    probe.write_text(f"#!{sys.executable}\n"
                     + PROBE.format(meltano=str(ROOT / ".venv/bin/meltano"), record=str(record)))
    probe.chmod(0o755)
    stamp = tmp_path / "installed"  # the install step is not under test: it counts as done
    stamp.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTSYNC_SANDBOX_")}
    env.update({"MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
                "CONSENT_MAPPER_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}"})
    try:
        made = subprocess.run(
            ["make", "--no-print-directory", "-C", str(ROOT), "sync", f"STAMP={stamp}",
             f"SANDBOX_DIR={sandbox_dir}", "DEMO_SIZE=0", f"MELTANO={probe}"],
            env=env, capture_output=True, text=True, timeout=240)
        assert made.returncode == 0, made.stdout + made.stderr
        endpoints = json.loads((sandbox_dir / "endpoints.json").read_text())
        exported = subprocess.run(
            [str(ROOT / ".venv/bin/consent-sandbox"), "env", "--state-dir", str(sandbox_dir)],
            capture_output=True, text=True, check=True).stdout
    finally:
        subprocess.run([str(ROOT / ".venv/bin/consent-sandbox"), "stop", "--state-dir",
                        str(sandbox_dir)], capture_output=True, timeout=60)

    for port, api in zip(DEFAULT_PORTS, ("Salesforce", "Autopilot", "ActiveCampaign"),
                         strict=True):
        assert f"port {port} is taken: {api} gets a free port" in made.stdout
    sf_url = endpoints["salesforce"]["instance_url"]
    sf_port = sf_url.rsplit(":", 1)[1]
    assert int(sf_port) not in DEFAULT_PORTS

    seen = json.loads(record.read_text())
    assert seen["args"] == ["--environment=sandbox", "run", "consent-sync"]
    assert seen["env"]["MELTANO_RUN_FORCE"] == "true"
    assert seen["env"]["CONSENTSYNC_SANDBOX_SALESFORCE_PORT"] == sf_port
    assert seen["env"]["CONSENTSYNC_SANDBOX_CA_BUNDLE"] == endpoints["ca_bundle"]
    assert seen["config"]["instance_url"] == sf_url
    assert seen["config"]["login_url"] == sf_url
    assert seen["config"]["ca_bundle"] == endpoints["ca_bundle"]

    # every variable the sandbox environment reads is one `consent-sandbox env` sets
    names = {line.removeprefix("export ").split("=", 1)[0] for line in exported.splitlines()}
    used = set(re.findall(r"\$\{?(CONSENTSYNC_SANDBOX_\w+)", (ROOT / "meltano.yml").read_text()))
    assert used and used <= names
    assert {"CONSENTSYNC_SANDBOX_AUTOPILOT_PORT", "CONSENTSYNC_SANDBOX_ACTIVECAMPAIGN_PORT"} <= used
