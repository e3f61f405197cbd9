"""The sandbox core: TLS, endpoints.json, counters and deterministic faults."""

import json

import pytest
import requests

from consent_sandbox.instrument import Fault, Instruments
from consent_sandbox.testing import running_sandbox


def test_count_fault_fires_exactly_n_times_then_is_dropped():
    instruments = Instruments()
    instruments.add_fault(Fault(status=503, count=2, endpoint="composite"))
    fired = [instruments.take_fault("/services/data/{v}/composite/sobjects", "PATCH")
             for _ in range(3)]
    assert [f.status if f else None for f in fired] == [503, 503, None]
    assert instruments.faults == []


def test_fraction_fault_is_deterministic_for_a_seed():
    def pattern() -> list[bool]:
        fault = Fault(fraction=0.3, seed=42)
        return [fault.fire() for _ in range(200)]

    first = pattern()
    assert first == pattern()
    assert 30 < sum(first) < 90


def test_fault_filters_on_method_and_endpoint():
    instruments = Instruments()
    instruments.add_fault(Fault(status=429, count=1, method="POST", endpoint="/contacts"))
    assert instruments.take_fault("/v1/contacts", "GET") is None
    assert instruments.take_fault("/v1/lists", "POST") is None
    assert instruments.take_fault("/v1/contacts", "POST").status == 429


def test_per_record_faults_are_separate_from_request_faults():
    instruments = Instruments()
    instruments.add_fault(Fault(per_record=True, error_code="UNABLE_TO_LOCK_ROW", count=1))
    assert instruments.take_fault("/composite/sobjects", "PATCH") is None
    fault = instruments.take_fault("/composite/sobjects", "PATCH", per_record=True)
    assert fault.error_code == "UNABLE_TO_LOCK_ROW"


def test_serves_https_trusted_only_through_its_own_ca(tmp_path):
    with running_sandbox(tmp_path / "s") as sandbox:
        endpoints = json.loads((tmp_path / "s" / "endpoints.json").read_text())
        assert set(endpoints) == {"salesforce", "autopilot", "activecampaign", "ca_bundle"}
        assert set(endpoints["salesforce"]) >= {"instance_url", "login_url", "client_id",
                                                "client_secret", "username", "password",
                                                "security_token"}
        assert set(endpoints["autopilot"]) == {"base_url", "api_key"}
        for url in (sandbox.salesforce_url, sandbox.autopilot_url):
            assert url.startswith("https://127.0.0.1:")
            with pytest.raises(requests.exceptions.SSLError):
                requests.get(f"{url}/_sandbox/calls", timeout=10)
        assert sandbox.calls("salesforce") == {"total": 0, "writes": 0, "calls": []}


def test_ca_survives_a_restart(tmp_path):
    with running_sandbox(tmp_path / "s"):
        first = (tmp_path / "s" / "ca.pem").read_bytes()
    with running_sandbox(tmp_path / "s") as sandbox:
        assert (tmp_path / "s" / "ca.pem").read_bytes() == first
        sandbox.admin("autopilot", "GET", "/calls")  # still trusted with the old bundle
