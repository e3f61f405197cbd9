"""The SDK's standard tap test suite, run against the Autopilot stand-in."""

from __future__ import annotations

import pytest
import requests
from singer_sdk.testing import get_tap_test_class

from tap_autopilot.tap import TapAutopilot

# Filled in once the sandbox runs (its port is only known then); the runner reads it lazily.
CONFIG: dict = {"api_key": "set-by-the-sandbox-fixture"}

StandardTests = get_tap_test_class(TapAutopilot, config=CONFIG)


class TestTapAutopilotStandard(StandardTests):
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def seeded_sandbox(cls, sandbox, tap_config, admin):
        key = sandbox.endpoints["autopilot"]["api_key"]

        def call(method: str, path: str, **kwargs: object) -> requests.Response:
            response = requests.request(method, f"{sandbox.autopilot_url}{path}",
                                        verify=sandbox.ca_bundle, timeout=30,
                                        headers={"autopilotapikey": key, "Connection": "close"},
                                        **kwargs)
            response.raise_for_status()
            return response

        admin(sandbox, "POST", "/contacts", json=[
            {"Email": f"std{i}@standard.example", "updated_at": 1700000000000 + i} for i in range(3)
        ])
        admin(sandbox, "POST", "/contacts/std2@standard.example/hardbounce")
        call("POST", "/contact", json={"contact": {
            "Email": "std0@standard.example", "custom": {"string--Plan": "gold"}}})
        list_id = call("POST", "/list", json={"name": "Standard suite"}).json()["list_id"]
        call("POST", f"/list/{list_id}/contact/std1@standard.example")
        CONFIG.update(tap_config(sandbox))
        return sandbox
