"""Fixtures: a Salesforce stand-in per test module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from consent_sandbox.testing import RunningSandbox, running_sandbox

CREDENTIALS = ("instance_url", "login_url", "client_id", "client_secret", "refresh_token")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("sbx")) as sbx:
        yield sbx


@pytest.fixture
def config(sandbox: RunningSandbox) -> dict:
    """Empty org, no faults, no API usage; the tap's settings for it (refresh_token grant)."""
    sandbox.admin("salesforce", "POST", "/reset")
    sandbox.admin("salesforce", "DELETE", "/faults")
    sandbox.admin("salesforce", "DELETE", "/calls")
    sf = sandbox.endpoints["salesforce"]
    return {k: sf[k] for k in CREDENTIALS} | {"ca_bundle": sandbox.ca_bundle,
                                              "retry_backoff_seconds": 0.01}
