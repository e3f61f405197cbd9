"""Streams read in-process over loopback TLS: sessions ending mid-read, start_date."""

from __future__ import annotations

import json
from itertools import islice

import pytest

from consentsync_salesforce import CallRefused, ClientRejected, GrantRefused, SalesforceUnavailable
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


def run_tap(config: dict, capsys, **settings: object) -> list[dict]:
    """Discovery and sync in this process; the records written to stdout."""
    tap = TapSalesforceOptout(config={**config, **settings}, parse_env_config=False)
    tap.sync_all()
    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [m["record"] for m in messages if m["type"] == "RECORD"]


@pytest.mark.parametrize(("endpoint", "method", "status", "code"), [
    ("oauth2/token", "POST", 503, "SERVER_UNAVAILABLE"),
    ("describe", "GET", 500, "UNKNOWN_EXCEPTION"),
    ("queryAll", "GET", 429, "REQUEST_LIMIT_EXCEEDED"),  # the first page
    ("queryAll/{", "GET", 503, "SERVER_UNAVAILABLE"),  # a page after the first
    ("queryAll/{", "GET", 400, "UNABLE_TO_LOCK_ROW"),
])
def test_a_fault_on_any_single_call_is_retried(sandbox, config, capsys, caplog, endpoint,
                                               method, status, code):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": f"F{i}", "Company": "C", "Email": f"f{i}@x.io"} for i in range(250)])
    sandbox.admin("salesforce", "POST", "/faults", json={
        "status": status, "error_code": code, "count": 1, "endpoint": endpoint,
        "method": method})
    rows = run_tap(config, capsys, objects=["Lead"], page_size=200)
    assert len({r["Id"] for r in rows}) == 250
    assert f"HTTP {status}" in caplog.text and "retry 1 of 5" in caplog.text


def test_a_token_endpoint_down_says_retry_later_not_renew(sandbox, config, capsys):
    sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 500, "count": 10, "endpoint": "oauth2/token", "method": "POST"})
    with pytest.raises(SalesforceUnavailable) as failure:
        run_tap(config, capsys, max_retries=2)
    message = str(failure.value)
    assert "sign-in failed 3 times" in message and "run again later" in message
    assert "Renew" not in message


@pytest.mark.parametrize(("setting", "code"), [("client_id", "invalid_client_id"),
                                               ("client_secret", "invalid_client")])
def test_a_wrong_client_id_or_secret_says_to_check_the_connected_app(sandbox, config, capsys,
                                                                    setting, code):
    with pytest.raises(ClientRejected) as failure:
        run_tap(config, capsys, **{setting: "wrong-value"})
    message = str(failure.value)
    assert code in message and "Consumer Key" in message and "Renew" not in message
    assert "wrong-value" not in message


def run_with_state(config: dict, capsys, state: dict | None = None, **settings: object
                   ) -> tuple[list[dict], dict]:
    tap = TapSalesforceOptout(config={**config, "objects": ["Lead"], **settings},
                              state=state or {}, parse_env_config=False)
    tap.sync_all()
    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return [m["record"] for m in messages if m["type"] == "RECORD"], states[-1]


def bulk_calls(sandbox) -> dict[str, int]:
    return {f"{c['method']} {c['endpoint']}": c["count"]
            for c in sandbox.calls("salesforce")["calls"]}


def test_bulk_and_rest_read_the_same_records_and_bookmark_alike(sandbox, config, capsys):
    rows = [{"LastName": f"K{i}", "Company": "C", "Email": f"k{i}@x.io", "Phone": None,
             "HasOptedOutOfEmail": i % 3 == 0,
             "SystemModstamp": f"2026-01-01T10:00:{i // 100:02d}.{i % 7:03d}+0000"}
            for i in range(450)]
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=rows).json()["ids"]
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Gone", "Company": "C", "Email": "gone@x.io", "IsDeleted": True}])
    rest, rest_state = run_with_state(config, capsys, page_size=200, bulk_threshold=0)
    sandbox.admin("salesforce", "DELETE", "/calls")
    bulk, bulk_state = run_with_state(config, capsys, page_size=200, bulk_threshold=400)
    calls = bulk_calls(sandbox)
    assert calls["POST /services/data/{version}/jobs/query"] == 1, calls
    assert sorted(bulk, key=lambda r: r["Id"]) == sorted(rest, key=lambda r: r["Id"])
    assert len(rest) == 451 and any(r["IsDeleted"] for r in bulk)
    assert bulk_state["bookmarks"]["Lead"]["position"] == rest_state["bookmarks"]["Lead"][
        "position"]

    sandbox.admin("salesforce", "PATCH", f"/records/Lead/{ids[5]}",
                  json={"HasOptedOutOfEmail": True})
    changed, _ = run_with_state(config, capsys, bulk_state, page_size=200, bulk_threshold=400)
    assert [r["Id"] for r in changed] == [ids[5]]
    print(f"\nBulk read of {len(bulk)} Leads: {sum(calls.values())} calls {calls}")


def test_a_bulk_read_stopped_midway_is_read_again_not_skipped(sandbox, config, capsys):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": f"M{i}", "Company": "C", "Email": f"m{i}@x.io"} for i in range(450)])
    sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 400, "error_code": "MALFORMED_QUERY", "message": "refused", "count": 1,
        "endpoint": "jobs/query", "method": "POST"})
    with pytest.raises(CallRefused):
        run_with_state(config, capsys, page_size=200, bulk_threshold=1)
    first = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    state = [m["value"] for m in first if m["type"] == "STATE"]
    rest, _ = run_with_state(config, capsys, state[-1] if state else None, page_size=200,
                             bulk_threshold=1)
    assert len({r["Id"] for r in rest}) == 450 - 200 * bool(state)


def test_a_late_row_of_the_bookmarks_second_is_read_once(sandbox, config, capsys):
    stamp = "2026-01-01T10:00:00.500+0000"
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": f"S{i}", "Company": "C", "Email": f"s{i}@x.io", "SystemModstamp": stamp}
        for i in range(10)])
    first, state = run_with_state(config, capsys)
    assert len(first) == 10
    # committed late: a few milliseconds below the bookmark, in its second
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Late", "Company": "C", "Email": "late@x.io",
         "SystemModstamp": "2026-01-01T10:00:00.100+0000"}])
    late, state = run_with_state(config, capsys, state)
    assert [r["Email"] for r in late] == ["late@x.io"]
    quiet, _ = run_with_state(config, capsys, state)
    assert quiet == []  # nothing read twice
