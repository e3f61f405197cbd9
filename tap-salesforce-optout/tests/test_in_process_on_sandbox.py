"""Streams read in-process over loopback TLS: sessions ending mid-read, start_date."""

from __future__ import annotations

import json
from itertools import islice

import pytest

from consentsync_salesforce import GrantRefused
from tap_salesforce_optout.tap import TapSalesforceOptout


def lead_stream(sandbox, config: dict, rows: int):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": f"R{i}", "Company": "C", "Email": f"r{i}@x.io"} for i in range(rows)])
    tap = TapSalesforceOptout(config={**config, "objects": ["Lead"], "page_size": 200},
                              parse_env_config=False)
    return tap.streams["Lead"].get_records(None)


def test_sessions_expiring_between_pages_are_renewed(sandbox, config):
    reading = lead_stream(sandbox, config, 450)
    first = list(islice(reading, 200))
    sandbox.admin("salesforce", "POST", "/expire-sessions")
    rest = list(reading)
    assert len({r["Id"] for r in first + rest}) == 450
    tokens = [c for c in sandbox.calls("salesforce")["calls"] if c["endpoint"].endswith("/token")]
    assert sum(c["count"] for c in tokens) == 2  # sign-in, one renewal


def test_a_refused_renewal_mid_run_says_to_renew_the_connection(sandbox, config):
    reading = lead_stream(sandbox, config, 450)
    list(islice(reading, 200))
    sandbox.admin("salesforce", "POST", "/expire-sessions")
    sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 400, "error_code": "invalid_grant", "message": "expired access/refresh token",
        "count": 1, "endpoint": "oauth2/token", "method": "POST"})
    with pytest.raises(GrantRefused) as failure:
        list(reading)
    message = str(failure.value)
    assert "could not be renewed" in message and "invalid_grant" in message
    assert "Renew the Salesforce connection" in message and "refresh_token" in message
    assert config["refresh_token"] not in message


def test_start_date_bounds_the_first_read(sandbox, config, capsys):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Old", "Company": "C", "Email": "old@x.io",
         "SystemModstamp": "2025-06-01T00:00:00.000+0000"},
        {"LastName": "New", "Company": "C", "Email": "new@x.io",
         "SystemModstamp": "2026-01-01T00:00:00.000+0000"}])
    tap = TapSalesforceOptout(config={**config, "objects": ["Lead"], "start_date": "2026-01-01"},
                              parse_env_config=False)
    tap.sync_all()
    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [m["record"]["Email"] for m in messages if m["type"] == "RECORD"] == ["new@x.io"]
