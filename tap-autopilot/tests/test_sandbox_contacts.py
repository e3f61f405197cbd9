"""The tap against the Autopilot stand-in over loopback TLS: scans, bookmarks, faults.

One sandbox serves the module; each test seeds contacts under its own email domain.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tap_autopilot.timestamps import parse_timestamp

BASE = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def seed(sandbox, admin):
    def seed(rows: list[dict]) -> None:
        admin(sandbox, "POST", "/contacts", json=rows)
    return seed


def people(domain: str, count: int) -> list[dict]:
    """`count` contacts with distinct updated_at, one minute apart, all in the past."""
    return [{"Email": f"p{i:04d}@{domain}", "FirstName": f"P{i}", "unsubscribed": False,
             "updated_at": (BASE + timedelta(minutes=i)).isoformat().replace("+00:00", "Z")}
            for i in range(count)]


def contact_page_calls(calls: dict) -> int:
    return sum(row["count"] for row in calls["calls"]
               if row["method"] == "GET" and row["endpoint"].startswith("/v1/contacts")
               and "custom_fields" not in row["endpoint"])


def of(domain: str, records: list[dict]) -> dict[str, dict]:
    return {r["Email"]: r for r in records if (r.get("Email") or "").endswith("@" + domain)}


def test_full_scan_reads_every_contact_100_a_page(sandbox, admin, seed, tmp_path, run_tap,
                                                  tap_config):
    seed(people("scan.example", 350))
    admin(sandbox, "DELETE", "/calls")
    run = run_tap(tmp_path, tap_config(sandbox))
    everyone = run.records["contacts"]
    assert len(of("scan.example", everyone)) == 350
    assert len({c["contact_id"] for c in everyone}) == len(everyone)
    pages = contact_page_calls(admin(sandbox, "GET", "/calls").json())
    assert pages == math.ceil(len(everyone) / 100)
    if len(everyone) == 350:  # first test on this sandbox: the 350 over 4 pages
        assert pages == 4
    assert "progress_markers" not in run.state["bookmarks"]["contacts"]
    newest = max(c["updated_at"] for c in everyone)
    if parse_timestamp(newest) < datetime.now(UTC) - timedelta(minutes=1):
        assert run.bookmark() == newest  # below the signpost: the newest contact read


def test_second_run_emits_only_changed_contacts(sandbox, admin, seed, tmp_path, run_tap,
                                                tap_config):
    seed(people("delta.example", 250))
    first = run_tap(tmp_path / "1", tap_config(sandbox))
    assert len(of("delta.example", first.records["contacts"])) == 250
    changed = {"p0003@delta.example", "p0120@delta.example"}
    for email in changed:
        admin(sandbox, "POST", f"/contacts/{email}", json={"LastName": "New"})
    second = run_tap(tmp_path / "2", tap_config(sandbox), state=first.state)
    emitted = of("delta.example", second.records["contacts"])
    # the newest contact can sit exactly at the old bookmark and be read again (>=)
    assert changed <= set(emitted) <= changed | {"p0249@delta.example"}
    assert emitted["p0003@delta.example"]["LastName"] == "New"
    assert len(second.records["contacts"]) < 10
    assert second.bookmark() > first.bookmark()


def test_bookmark_stays_below_scan_start_minus_margin(sandbox, seed, tmp_path, run_tap,
                                                      tap_config):
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    seed([{"Email": "future@margin.example", "updated_at": future}])
    run = run_tap(tmp_path, tap_config(sandbox, safety_margin_seconds=600))
    after = datetime.now(UTC)
    assert "future@margin.example" in of("margin.example", run.records["contacts"])
    assert parse_timestamp(run.bookmark()) <= after - timedelta(seconds=600)
    again = run_tap(tmp_path / "2", tap_config(sandbox, safety_margin_seconds=600),
                    state=run.state)
    # read again inside the margin, but the same version: remembered, not emitted again
    assert "future@margin.example" not in of("margin.example", again.records["contacts"])


def test_a_quiet_run_right_after_a_mass_change_emits_nothing(sandbox, admin, seed, tmp_path,
                                                             run_tap, tap_config):
    seed(people("quiet.example", 300))
    config = tap_config(sandbox, safety_margin_seconds=600)
    first = run_tap(tmp_path / "1", config)
    for i in range(0, 300, 2):  # a mass change just before the next scan: all in the margin
        admin(sandbox, "POST", f"/contacts/p{i:04d}@quiet.example", json={"LastName": "M"})
    second = run_tap(tmp_path / "2", config, state=first.state)
    assert len(of("quiet.example", second.records["contacts"])) == 150
    third = run_tap(tmp_path / "3", config, state=second.state)
    assert of("quiet.example", third.records["contacts"]) == {}  # idle: nothing re-emitted
    assert len(json.dumps(third.state)) < 10_000


def test_contacts_sharing_the_bookmarks_instant_are_not_re_processed(sandbox, seed, tmp_path,
                                                                     run_tap, tap_config):
    stamp = "2025-06-01T08:00:00.000Z"
    seed([{"Email": f"t{i}@tie.example", "updated_at": stamp} for i in range(250)])
    first = run_tap(tmp_path / "1", tap_config(sandbox))
    assert len(of("tie.example", first.records["contacts"])) == 250
    second = run_tap(tmp_path / "2", tap_config(sandbox), state=first.state)
    assert of("tie.example", second.records["contacts"]) == {}


def test_a_version_readable_only_after_its_stamp_is_still_emitted(sandbox, seed, tmp_path,
                                                                  run_tap, tap_config):
    config = tap_config(sandbox, safety_margin_seconds=600)
    recent = (datetime.now(UTC) - timedelta(seconds=120)).isoformat()
    seed([{"Email": f"w{i}@late.example", "updated_at": recent} for i in range(200)])
    first = run_tap(tmp_path / "1", config)
    # stamped before the first scan, but only readable after it (a queued write)
    late = (datetime.now(UTC) - timedelta(seconds=60)).isoformat()
    seed([{"Email": "late@late.example", "updated_at": late}])
    second = run_tap(tmp_path / "2", config, state=first.state)
    emitted = of("late.example", second.records["contacts"])
    assert "late@late.example" in emitted
    assert len(emitted) < 20  # only its bucket (of 128) is emitted again


def test_interrupted_scan_does_not_move_the_bookmark(sandbox, admin, seed, tmp_path, run_tap,
                                                     tap_config):
    seed(people("cut.example", 250))
    first = run_tap(tmp_path / "1", tap_config(sandbox))
    admin(sandbox, "POST", "/contacts/p0007@cut.example", json={"LastName": "Changed"})
    # pages after the first are refused with a fatal 400: the run fails half-way
    admin(sandbox, "POST", "/faults", json={"status": 400, "count": 1000, "method": "GET",
                                            "endpoint": "/contacts/{"})
    try:
        failed = run_tap(tmp_path / "2", tap_config(sandbox), state=first.state, check=False)
    finally:
        admin(sandbox, "DELETE", "/faults")
    assert failed.returncode != 0
    assert "400" in failed.stderr
    for state in failed.states:
        assert state["bookmarks"]["contacts"].get("replication_key_value") == first.bookmark()
    again = run_tap(tmp_path / "3", tap_config(sandbox), state=failed.state or first.state)
    assert "p0007@cut.example" in of("cut.example", again.records["contacts"])


def test_mixed_timestamp_forms_come_out_iso_utc(sandbox, seed, tmp_path, run_tap, tap_config):
    moment = datetime(2023, 6, 1, 12, 30, 15, tzinfo=UTC)
    millis = int(moment.timestamp() * 1000)
    seed([
        {"Email": "iso@forms.example", "updated_at": "2023-06-01T12:30:15.000Z"},
        {"Email": "rfc@forms.example", "updated_at": "Thu, 01 Jun 2023 12:30:15 GMT"},
        {"Email": "ms@forms.example", "updated_at": millis},
        {"Email": "mstext@forms.example", "updated_at": str(millis + 1000)},
    ])
    run = run_tap(tmp_path, tap_config(sandbox))
    emitted = of("forms.example", run.records["contacts"])
    expected = moment.isoformat(timespec="microseconds")
    for email in ("iso@forms.example", "rfc@forms.example", "ms@forms.example"):
        assert emitted[email]["updated_at"] == expected
    assert emitted["mstext@forms.example"]["updated_at"] == "2023-06-01T12:30:16.000000+00:00"


def test_start_date_filters_across_timestamp_forms(sandbox, seed, tmp_path, run_tap,
                                                   tap_config):
    seed([
        {"Email": "old-rfc@start.example", "updated_at": "Mon, 01 Jan 2018 00:00:00 GMT"},
        {"Email": "old-ms@start.example", "updated_at": 1514764800000},
        {"Email": "new-ms@start.example", "updated_at": 2000000000000},
        {"Email": "new-iso@start.example", "updated_at": "2021-02-03T04:05:06.789Z"},
    ])
    run = run_tap(tmp_path, tap_config(sandbox, start_date="2020-01-01T00:00:00Z"))
    assert set(of("start.example", run.records["contacts"])) == {"new-ms@start.example",
                                                                 "new-iso@start.example"}


def test_hard_bounce_unsubscribe_resubscribe_visible(sandbox, admin, seed, tmp_path, run_tap,
                                                     tap_config):
    email = "consent@flags.example"
    seed([{"Email": email, "unsubscribed": False, "updated_at": "2020-01-01T00:00:00Z"}])
    base = run_tap(tmp_path / "0", tap_config(sandbox))
    assert of("flags.example", base.records["contacts"])[email]["hard_bounced"] is False

    admin(sandbox, "POST", f"/contacts/{email}/hardbounce")
    bounced = run_tap(tmp_path / "1", tap_config(sandbox), state=base.state)
    record = of("flags.example", bounced.records["contacts"])[email]
    assert record["hard_bounced"] is True
    assert parse_timestamp(record["hard_bounced_at"]) > datetime(2024, 1, 1, tzinfo=UTC)

    admin(sandbox, "POST", f"/contacts/{email}", json={"unsubscribed": True})
    out = run_tap(tmp_path / "2", tap_config(sandbox), state=bounced.state)
    assert of("flags.example", out.records["contacts"])[email]["unsubscribed"] is True

    admin(sandbox, "POST", f"/contacts/{email}", json={"unsubscribed": False})
    back = run_tap(tmp_path / "3", tap_config(sandbox), state=out.state)
    assert of("flags.example", back.records["contacts"])[email]["unsubscribed"] is False


def test_429_and_503_are_survived(sandbox, admin, seed, tmp_path, run_tap, tap_config):
    seed(people("faults.example", 250))
    admin(sandbox, "DELETE", "/calls")
    admin(sandbox, "POST", "/faults", json={"status": 429, "count": 1, "method": "GET"})
    admin(sandbox, "POST", "/faults", json={"status": 503, "count": 2, "method": "GET"})
    run = run_tap(tmp_path, tap_config(sandbox))
    assert len(of("faults.example", run.records["contacts"])) == 250
    pages = math.ceil(len(run.records["contacts"]) / 100)
    # each of the three refused tries is repeated once
    assert contact_page_calls(admin(sandbox, "GET", "/calls").json()) == pages + 3


def test_a_wrong_key_fails_clearly_without_logging_it(sandbox, tmp_path, run_tap, tap_config):
    secret = "not-the-key-0123456789"
    run = run_tap(tmp_path, tap_config(sandbox, api_key=secret), check=False)
    assert run.returncode != 0
    assert "401" in run.stderr and "check the api_key setting" in run.stderr
    assert secret not in run.stderr


def test_lists_members_and_custom_field_definitions(sandbox, tmp_path, run_tap, tap_config):
    key = sandbox.endpoints["autopilot"]["api_key"]

    def call(method: str, path: str, **kwargs: object) -> requests.Response:
        response = requests.request(method, f"{sandbox.autopilot_url}{path}",
                                    verify=sandbox.ca_bundle, timeout=30,
                                    headers={"autopilotapikey": key, "Connection": "close"},
                                    **kwargs)
        response.raise_for_status()
        return response

    call("POST", "/contact", json={"contact": {
        "Email": "member1@lists.example", "custom": {"string--Favourite--Colour": "teal"}}})
    call("POST", "/contact", json={"contact": {"Email": "member2@lists.example"}})
    list_id = call("POST", "/list", json={"name": "Newsletter"}).json()["list_id"]
    for email in ("member1@lists.example", "member2@lists.example"):
        call("POST", f"/list/{list_id}/contact/{email}")

    run = run_tap(tmp_path, tap_config(sandbox),
                  streams=("contacts", "lists", "list_members", "custom_fields"))
    assert {"list_id": list_id, "title": "Newsletter"} in run.records["lists"]
    members = {m["Email"] for m in run.records["list_members"] if m["list_id"] == list_id}
    assert members == {"member1@lists.example", "member2@lists.example"}
    assert {"name": "Favourite Colour", "fieldType": "string"} in run.records["custom_fields"]
    member1 = of("lists.example", run.records["contacts"])["member1@lists.example"]
    assert list_id in member1["lists"]
    assert {"kind": "Favourite Colour", "fieldType": "string", "value": "teal"} in (
        member1["custom_fields"])
