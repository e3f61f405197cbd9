"""Fixtures: a sandbox on free ports, and the target run through its CLI like Meltano runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from consent_sandbox.testing import RunningSandbox, running_sandbox

TARGET = Path(sys.executable).parent / "target-salesforce"
SECRET_KEYS = ("client_secret", "refresh_token", "password", "security_token")


@dataclass
class TargetRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def states(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _json_type(values: list[object]) -> dict:
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return {"type": ["boolean", "null"]}
    if kinds == {dict}:
        return {"type": ["object", "null"]}
    if kinds and kinds <= {int}:
        return {"type": ["integer", "null"]}
    return {"type": ["string", "null"]}


def singer_messages(streams: dict[str, list[dict]], state: dict | None) -> str:
    """SCHEMA then RECORD lines per stream, then one STATE line, as a tap would send them."""
    lines = []
    for stream, records in streams.items():
        names = list(dict.fromkeys(k for r in records for k in r))
        properties = {n: _json_type([r.get(n) for r in records]) for n in names}
        lines.append({"type": "SCHEMA", "stream": stream, "key_properties": [],
                      "schema": {"type": "object", "properties": properties}})
        lines += [{"type": "RECORD", "stream": stream, "record": r} for r in records]
    if state is not None:
        lines.append({"type": "STATE", "value": state})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def target_config(sandbox: RunningSandbox, grant: str = "refresh_token", **overrides: object
                  ) -> dict:
    sf = sandbox.endpoints["salesforce"]
    config = {key: sf[key] for key in ("instance_url", "login_url", "client_id",
                                       "client_secret")}
    if grant == "refresh_token":
        config["refresh_token"] = sf["refresh_token"]
    else:
        config.update({k: sf[k] for k in ("username", "password", "security_token")})
    config.update(ca_bundle=sandbox.ca_bundle, retry_backoff_seconds=0.01)
    config.update(overrides)
    return config


@contextmanager
def serving_sandbox(state_dir: Path) -> Iterator[RunningSandbox]:
    with running_sandbox(state_dir) as running:
        probe = requests.post(f"{running.endpoints['salesforce']['login_url']}"
                              "/services/oauth2/token", verify=running.ca_bundle, timeout=30)
        if probe.status_code == 404:
            pytest.skip("the Salesforce stand-in of the sandbox does not serve yet")
        yield running


@pytest.fixture(scope="module")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with serving_sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture
def sandbox(shared_sandbox: RunningSandbox) -> RunningSandbox:
    """The module's sandbox, emptied: no records, faults, field security, usage or counted calls."""
    shared_sandbox.admin("salesforce", "POST", "/reset")
    shared_sandbox.admin("salesforce", "DELETE", "/faults")
    shared_sandbox.admin("salesforce", "DELETE", "/calls")
    return shared_sandbox


RunTarget = Callable[..., TargetRun]


@pytest.fixture
def run_target(tmp_path: Path) -> RunTarget:
    """Pipe Singer messages into ``target-salesforce --config <file>``; secrets never echo."""

    def run(sandbox: RunningSandbox, streams: dict[str, list[dict]], *,
            state: dict | None = None, grant: str = "refresh_token",
            **overrides: object) -> TargetRun:
        config = target_config(sandbox, grant, **overrides)
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        done = subprocess.run([str(TARGET), "--config", str(path)],
                              input=singer_messages(streams, state if state is not None
                                                    else {"bookmarks": {"run": 1}}),
                              capture_output=True, text=True, timeout=300)
        result = TargetRun(done.returncode, done.stdout, done.stderr)
        for key in SECRET_KEYS:
            if config.get(key):
                assert str(config[key]) not in result.output, f"{key} leaked into the output"
        return result

    return run
