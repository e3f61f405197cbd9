"""Sandbox fixtures and a helper that runs the tap as its console script would."""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from consent_sandbox.testing import RunningSandbox, running_sandbox
from tap_activecampaign.tap import TapActiveCampaign

# The sandbox refuses above 50 calls a second; the tap keeps under it by itself.
SANDBOX_RATE = "50"
TAP_RATE = 40


@dataclass
class TapRun:
    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    states: list[dict] = field(default_factory=list)
    calls: int = 0

    @property
    def state(self) -> dict:
        return self.states[-1] if self.states else {}

    def by_email(self) -> dict[str, dict]:
        return {r["email"]: r for r in self.records["contacts"]}


def make_config(sandbox: RunningSandbox, **overrides: object) -> dict:
    ac = sandbox.endpoints["activecampaign"]
    return {"api_url": ac["base_url"], "api_token": ac["api_token"],
            "ca_bundle": sandbox.ca_bundle, "rate_limit_per_second": TAP_RATE,
            "safety_margin_seconds": 0, **overrides}


@functools.cache
def discovered_catalog() -> dict:
    return json.loads(TapActiveCampaign(config={"api_url": "https://x/api/3", "api_token": "x"},
                                        parse_env_config=False).catalog_json_text)


def run_tap_process(workdir: Path, config: dict, state: dict | None = None,
                    streams: tuple[str, ...] = ("contacts",)) -> TapRun:
    """Run the tap in this process (as its CLI would, minus the interpreter start) with only
    `streams` selected; parse the Singer messages it writes."""
    workdir.mkdir(parents=True, exist_ok=True)
    catalog = copy.deepcopy(discovered_catalog())
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    tap = TapActiveCampaign(config=config, catalog=catalog, state=copy.deepcopy(state or {}),
                            parse_env_config=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    run = TapRun(calls=tap.http_session.calls)
    for line in out.getvalue().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    with running_sandbox(tmp_path_factory.mktemp("activecampaign"),
                         "--activecampaign-rate-limit", SANDBOX_RATE) as sbx:
        yield sbx


def admin_call(sandbox: RunningSandbox, method: str, path: str,
               **kwargs: object) -> requests.Response:
    return sandbox.admin("activecampaign", method, path, headers={"Connection": "close"},
                         **kwargs)


@pytest.fixture(scope="session")
def admin():
    """`admin(sandbox, method, path, **kwargs)`: the ActiveCampaign stand-in's admin surface."""
    return admin_call


@pytest.fixture(scope="session")
def tap_config():
    return make_config


@pytest.fixture(scope="session")
def run_tap():
    return run_tap_process
