"""tap-salesforce-optout against the Salesforce stand-in over loopback TLS, as Meltano runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from consent_sandbox.salesforce.testing import connect

SCRIPT = Path(sys.executable).parent / "tap-salesforce-optout"


@pytest.fixture
def tap(config: dict, tmp_path: Path) -> Callable[..., tuple[int, list[dict], str]]:
    def run(state: dict | None = None, **settings: object) -> tuple[int, list[dict], str]:
        path = tmp_path / "config.json"
        path.write_text(json.dumps({**config, **settings}))
        args = [str(SCRIPT), "--config", str(path)]
        if state is not None:
            (tmp_path / "state.json").write_text(json.dumps(state))
            args += ["--state", str(tmp_path / "state.json")]
        result = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
        messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        return result.returncode, messages, result.stderr

    return run


def records(messages: list[dict], stream: str | None = None) -> list[dict]:
    return [m["record"] for m in messages
            if m["type"] == "RECORD" and stream in (None, m["stream"])]


def last_state(messages: list[dict]) -> dict:
    return [m for m in messages if m["type"] == "STATE"][-1]["value"]


def add(sandbox, sobject: str, rows: list[dict]) -> list[str]:
    return sandbox.admin("salesforce", "POST", f"/records/{sobject}", json=rows).json()["ids"]


def test_first_read_then_only_changes_and_deletions(sandbox, config, tap):
    ids = add(sandbox, "Lead", [{"LastName": f"L{i}", "Company": "C", "Email": f"l{i}@x.io"}
                                for i in range(5)])
    add(sandbox, "Account", [{"LastName": "Person", "PersonEmail": "p@x.io",
                              "PersonHasOptedOutOfEmail": True}])
    code, messages, err = tap()
    assert code == 0, err
    assert len(records(messages, "Lead")) == 5
    person = [r for r in records(messages, "Account") if r["IsPersonAccount"]]
    assert person[0]["PersonEmail"] == "p@x.io" and person[0]["PersonHasOptedOutOfEmail"]
    assert all(r["in_selection"] for r in records(messages))
    assert "FROM Lead ORDER BY SystemModstamp ASC, Id ASC" in err  # the query is logged
    assert not [k for k in ("client_secret", "refresh_token") if config[k] in err]

    sandbox.admin("salesforce", "PATCH", f"/records/Lead/{ids[1]}",
                  json={"HasOptedOutOfEmail": True})
    connect(sandbox).Lead.delete(ids[2])
    code, messages, err = tap(last_state(messages))
    assert code == 0, err
    changed = {r["Id"]: r for r in records(messages)}
    assert set(changed) == {ids[1], ids[2]}
    assert changed[ids[1]]["HasOptedOutOfEmail"] is True and changed[ids[2]]["IsDeleted"] is True


def usage_allowing(sandbox, pages: int, percent: int = 90) -> int:
    """A daily API count at which the guard lets the describe of Lead and `pages` query pages
    through, then stops the tap before the next page."""
    total = sandbox.admin("salesforce", "GET", "/usage").json()["max"]
    return total * percent // 100 - 1 - pages


def test_many_rows_sharing_one_timestamp_across_a_stopped_run(sandbox, tap):
    stamp = "2026-01-01T10:00:00.500+0000"
    add(sandbox, "Lead", [{"LastName": f"S{i}", "Company": "C", "Email": f"s{i}@x.io",
                           "SystemModstamp": stamp} for i in range(450)])
    # the usage guard stops the first run after one page: 200 of the 450 rows
    sandbox.admin("salesforce", "POST", "/usage", json={"used": usage_allowing(sandbox, 1)})
    code, messages, err = tap(objects=["Lead"], page_size=200)
    assert code == 0, err
    assert "max_api_usage_percent=90" in err
    first = [r["Id"] for r in records(messages)]
    assert len(first) == 200
    state = last_state(messages)
    assert state["bookmarks"]["Lead"]["position"] == ["2026-01-01T10:00:00.500+00:00", first[-1]]

    sandbox.admin("salesforce", "POST", "/usage", json={"used": 0})
    code, messages, err = tap(state, objects=["Lead"], page_size=200)
    second = [r["Id"] for r in records(messages)]
    assert code == 0, err
    assert len(second) == 250 and not set(first) & set(second)
    assert "Id > '" in err  # paged on by (SystemModstamp, Id), not by remembering 450 Ids
    assert len(json.dumps(last_state(messages))) < 1000
    code, messages, err = tap(last_state(messages), objects=["Lead"], page_size=200)
    assert code == 0 and records(messages) == [], err  # quiet: nothing read twice


def test_reading_10000_leads_sharing_one_timestamp_costs_seven_calls_and_little_state(
        sandbox, tap):
    # a mass update: every row has the same SystemModstamp
    add(sandbox, "Lead", [{"LastName": f"V{i}", "Company": "C", "Email": f"v{i}@x.io",
                           "SystemModstamp": "2026-02-01T08:00:00.000+0000"}
                          for i in range(10_000)])
    code, messages, err = tap(objects=["Lead"], bulk_threshold=0)  # REST pages
    assert code == 0, err
    assert len({r["Id"] for r in records(messages)}) == 10_000
    calls = {(c["method"], c["endpoint"]): c["count"]
             for c in sandbox.calls("salesforce")["calls"]}
    # one token, one describe, five pages of 2,000
    assert sum(calls.values()) == 7, calls
    assert sum(n for (_, endpoint), n in calls.items() if "queryAll" in endpoint) == 5, calls
    state = last_state(messages)
    assert max(len(json.dumps(m["value"])) for m in messages if m["type"] == "STATE") < 10_000
    code, messages, err = tap(state, objects=["Lead"], bulk_threshold=0)
    assert code == 0 and records(messages) == [], err


def test_paging_over_several_pages(sandbox, tap):
    add(sandbox, "Lead", [{"LastName": f"P{i}", "Company": "C", "Email": f"p{i}@x.io"}
                          for i in range(450)])
    sandbox.admin("salesforce", "DELETE", "/calls")
    code, messages, err = tap(objects=["Lead"], page_size=200)
    assert code == 0, err
    assert len({r["Id"] for r in records(messages)}) == 450
    pages = [c for c in sandbox.calls("salesforce")["calls"] if "query" in c["endpoint"]]
    assert sum(c["count"] for c in pages) == 3


def test_selection_marks_rows_that_stopped_matching(sandbox, tap):
    ids = add(sandbox, "Lead", [
        {"LastName": "A", "Company": "C", "Email": "a@x.io", "Status": "Open"},
        {"LastName": "B", "Company": "C", "Email": "b@x.io", "Status": "x' OR Name != 'y"}])
    selection = {"Lead": [{"field": "Status", "operator": "equals", "value": "Open"}],
                 "Contact": "none", "Account": "none"}
    code, messages, err = tap(selection=selection)
    assert code == 0, err
    assert {r["Email"]: r["in_selection"] for r in records(messages)} == {"a@x.io": True,
                                                                        "b@x.io": False}
    sandbox.admin("salesforce", "PATCH", f"/records/Lead/{ids[0]}", json={"Status": "Closed"})
    code, messages, err = tap(last_state(messages), selection=selection)
    assert [(r["Email"], r["in_selection"]) for r in records(messages)] == [("a@x.io", False)]


def test_a_hidden_opt_out_field_stops_the_run_with_the_fix(sandbox, tap):
    sandbox.admin("salesforce", "POST", "/fls", json={"object": "Contact",
                                                      "field": "HasOptedOutOfEmail",
                                                      "access": "hidden"})
    try:
        code, messages, err = tap()
    finally:
        sandbox.admin("salesforce", "POST", "/fls", json={"object": "Contact",
                                                          "field": "HasOptedOutOfEmail",
                                                          "access": "visible"})
    assert code != 0 and records(messages) == []
    assert "Contact.HasOptedOutOfEmail" in err and "Field Accessibility" in err


def test_an_expired_session_mid_paging_is_renewed(sandbox, tap):
    add(sandbox, "Lead", [{"LastName": f"E{i}", "Company": "C", "Email": f"e{i}@x.io"}
                          for i in range(450)])
    sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 401, "error_code": "INVALID_SESSION_ID",
        "message": "Session expired or invalid", "count": 1, "endpoint": "queryAll/{",
        "method": "GET"})
    code, messages, err = tap(objects=["Lead"], page_size=200)
    assert code == 0, err
    assert len({r["Id"] for r in records(messages)}) == 450
    assert "renewing the access token" in err


def test_a_refused_renewal_says_to_renew_the_connection(sandbox, tap):
    code, messages, err = tap(refresh_token="revoked")
    assert code != 0 and "Renew the Salesforce connection" in err
    assert "revoked" not in err  # secrets never reach a log line


def test_the_password_grant_works(sandbox, tap):
    sf = sandbox.endpoints["salesforce"]
    add(sandbox, "Lead", [{"LastName": "W", "Company": "C", "Email": "w@x.io"}])
    code, messages, err = tap(refresh_token=None, username=sf["username"],
                              password=sf["password"], security_token=sf["security_token"])
    assert code == 0, err
    assert [r["Email"] for r in records(messages, "Lead")] == ["w@x.io"]


def test_the_usage_guard_in_discovery_fails_with_one_clear_message(sandbox, tap):
    add(sandbox, "Lead", [{"LastName": "U", "Company": "C", "Email": "u@x.io"}])
    sandbox.admin("salesforce", "POST", "/usage", json={"used": 95_000})
    try:
        code, messages, err = tap(max_api_usage_percent=90)
    finally:
        sandbox.admin("salesforce", "POST", "/usage", json={"used": 0})
    assert code == 1 and records(messages) == []
    assert err.count("max_api_usage_percent=90") == 1 and "Traceback" not in err


def test_salesforce_out_of_requests_in_discovery_is_one_clear_message(sandbox, tap):
    sandbox.admin("salesforce", "POST", "/usage", json={"used": 100_000})
    try:
        code, messages, err = tap()
    finally:
        sandbox.admin("salesforce", "POST", "/usage", json={"used": 0})
    assert code == 1 and records(messages) == []
    assert "used up its 24-hour API allowance" in err and "REQUEST_LIMIT_EXCEEDED" in err
    assert "Traceback" not in err


def test_about_describes_every_setting():
    about = json.loads(subprocess.run([str(SCRIPT), "--about", "--format=json"],
                                      capture_output=True, text=True, check=True).stdout)
    properties = about["settings"]["properties"]
    ours = {"instance_url", "login_url", "client_id", "client_secret", "refresh_token",
            "username", "password", "security_token", "api_version", "ca_bundle", "start_date",
            "page_size", "objects", "selection", "extra_fields", "max_api_usage_percent"}
    assert ours <= set(properties)
    assert all(properties[name].get("description") for name in ours)
    assert all(properties[name].get("secret") for name in
               ("client_secret", "refresh_token", "password", "security_token"))

