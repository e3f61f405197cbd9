"""A sandbox shared by the tests of one module."""

from collections.abc import Callable

import pytest
import requests

from consent_sandbox.testing import running_sandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("sbx"), "--autopilot-rate-limit", "1000") as sbx:
        yield sbx


@pytest.fixture
def api(sandbox) -> Callable[..., requests.Response]:
    """Calls to the Autopilot stand-in as a client makes them, on a reset store."""
    sandbox.admin("autopilot", "POST", "/reset")
    ap = sandbox.endpoints["autopilot"]
    session = requests.Session()
    session.verify = sandbox.ca_bundle
    session.trust_env = False  # REQUESTS_CA_BUNDLE must not replace the sandbox CA
    session.headers["autopilotapikey"] = ap["api_key"]

    def call(method: str, path: str, **kwargs: object) -> requests.Response:
        return session.request(method, f"{ap['base_url']}{path}", timeout=30, **kwargs)

    return call
