"""Sandbox fixtures and a helper that runs the tap as its console script would."""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from consent_sandbox.testing import RunningSandbox, running_sandbox
from tap_autopilot.tap import TapAutopilot

# The sandbox refuses above 50 calls a second; the tap keeps under it by itself.
SANDBOX_RATE = "50"
TAP_RATE = 40


@dataclass
class TapRun:
    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    states: list[dict] = field(default_factory=list)
    stderr: str = ""
    returncode: int = 0

    @property
    def state(self) -> dict:
        return self.states[-1] if self.states else {}

    def bookmark(self, stream: str = "contacts") -> str | None:
        return self.state.get("bookmarks", {}).get(stream, {}).get("replication_key_value")


def make_config(sandbox: RunningSandbox, **overrides: object) -> dict:
    return {"api_key": sandbox.endpoints["autopilot"]["api_key"],
            "base_url": sandbox.autopilot_url, "ca_bundle": sandbox.ca_bundle,
            "rate_limit_per_second": TAP_RATE, "safety_margin_seconds": 0, **overrides}


@functools.cache
def discovered_catalog() -> dict:
    """The tap's catalog, discovered once: it does not depend on the account."""
    return json.loads(TapAutopilot(config={"api_key": "unused"}, parse_env_config=False)
                      .catalog_json_text)


def run_tap_process(workdir: Path, config: dict, state: dict | None = None,
            streams: tuple[str, ...] = ("contacts",), check: bool = True) -> TapRun:
    """Run `tap-autopilot` with only `streams` selected; parse its Singer messages."""
    workdir.mkdir(parents=True, exist_ok=True)
    tap = [sys.executable, "-m", "tap_autopilot.tap"]
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config))
    catalog = copy.deepcopy(discovered_catalog())
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    catalog_path = workdir / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    args = [*tap, "--config", str(config_path), "--catalog", str(catalog_path)]
    if state is not None:
        state_path = workdir / "state.json"
        state_path.write_text(json.dumps(state))
        args += ["--state", str(state_path)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"tap-autopilot failed ({done.returncode}):\n{done.stderr[-6000:]}")
    run = TapRun(stderr=done.stderr, returncode=done.returncode)
    for line in done.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    with running_sandbox(tmp_path_factory.mktemp("autopilot"), "--autopilot-rate-limit",
                         SANDBOX_RATE) as sbx:
        yield sbx


def admin_call(sandbox: RunningSandbox, method: str, path: str,
               **kwargs: object) -> requests.Response:
    return sandbox.admin("autopilot", method, path, headers={"Connection": "close"}, **kwargs)


@pytest.fixture(scope="session")
def admin():
    """`admin(sandbox, method, path, **kwargs)`: the Autopilot stand-in's admin surface."""
    return admin_call


@pytest.fixture(scope="session")
def tap_config():
    """`tap_config(sandbox, **overrides)`: settings pointing the tap at a sandbox."""
    return make_config


@pytest.fixture(scope="session")
def run_tap():
    """`run_tap(workdir, config, state=None, streams=("contacts",))` -> TapRun."""
    return run_tap_process
