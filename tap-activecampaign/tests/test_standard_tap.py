"""The SDK's standard tap test suite, run against the ActiveCampaign stand-in."""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_activecampaign.tap import TapActiveCampaign

pytestmark = pytest.mark.xdist_group("tap-activecampaign-standard")

# Filled in once the sandbox runs (its port is only known then); the runner reads it lazily.
CONFIG: dict = {"api_url": "https://set-by-the-fixture/api/3", "api_token": "set-by-the-fixture"}

StandardTests = get_tap_test_class(TapActiveCampaign, config=CONFIG)


class TestTapActiveCampaignStandard(StandardTests):
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def seeded_sandbox(cls, sandbox, tap_config, admin):
        admin(sandbox, "POST", "/reset")
        admin(sandbox, "POST", "/contacts", json=[
            {"email": "std0@standard.example", "firstName": "Std", "tags": ["customer"],
             "lists": {"Newsletter": "active"}, "fields": {"Country": "Japan"}},
            {"email": "std1@standard.example", "lists": {"Newsletter": "unsubscribed"}},
            {"email": "std2@standard.example"},
        ])
        admin(sandbox, "POST", "/contacts/std2@standard.example/hardbounce")
        CONFIG.update(tap_config(sandbox))
        return sandbox
