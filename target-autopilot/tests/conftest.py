"""A sandbox (Autopilot stand-in over loopback TLS) shared by the integration tests."""

from __future__ import annotations

import pytest

from consent_sandbox.testing import RunningSandbox, running_sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory) -> RunningSandbox:
    with running_sandbox(tmp_path_factory.mktemp("sbx"), "--autopilot-rate-limit", "50") as sbx:
        yield sbx


@pytest.fixture
def clean_sandbox(sandbox: RunningSandbox) -> RunningSandbox:
    sandbox.admin("autopilot", "POST", "/reset")
    sandbox.admin("autopilot", "DELETE", "/faults")
    sandbox.admin("autopilot", "DELETE", "/calls")
    return sandbox


@pytest.fixture
def target_config(clean_sandbox: RunningSandbox) -> dict:
    ap = clean_sandbox.endpoints["autopilot"]
    return {"api_key": ap["api_key"], "base_url": ap["base_url"],
            "ca_bundle": clean_sandbox.ca_bundle, "rate_limit_per_second": 40,
            "max_retries": 4, "retry_backoff_seconds": 0.05}
