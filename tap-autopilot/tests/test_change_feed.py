"""The change feed: the hook receiver, hook registration, and the tap reading only what the
events name, against the Autopilot stand-in (its hooks deliver to loopback targets)."""

from __future__ import annotations

import sqlite3
import time

import pytest
import requests

from tap_autopilot.feed_store import EventStore, sent_contacts
from tap_autopilot.hook_receiver import serve
from tap_autopilot.hook_registration import EVENTS, register, target_url

SECRET = "s3cret-s3cret-s3cret-0123"
pytestmark = pytest.mark.xdist_group("autopilot-change-feed")


@pytest.fixture
def receiver(tmp_path):
    store = EventStore(tmp_path / "events.db")
    server = serve(store, SECRET, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    yield url, store, server
    server.shutdown()
    server.server_close()
    store.close()


def post(url: str, path: str, body: object) -> requests.Response:
    with requests.Session() as session:
        session.trust_env = False
        return session.post(f"{url}{path}", json=body, timeout=10)


def test_the_receiver_stores_only_what_carries_the_secret(receiver):
    url, store, _ = receiver
    ok = post(url, f"/autopilot-hooks/{SECRET}",
              {"event": "contact_unsubscribed", "contact_id": "person_1", "email": "a@x.io"})
    assert ok.status_code == 200
    assert post(url, "/autopilot-hooks/guess", {"event": "contact_updated",
                                                "contact_id": "person_2"}).status_code == 404
    assert post(url, f"/autopilot-hooks/{SECRET}", {"event": "x"}).status_code == 400
    assert [(e.event, e.contact_id, e.email) for e in store.after(0, store.last_id())] == [
        ("contact_unsubscribed", "person_1", "a@x.io")]


def contact(contact_id: str, updated_at: str, unsubscribed: bool) -> dict:
    return {"contact_id": contact_id, "Email": f"{contact_id}@x.io", "unsubscribed": unsubscribed,
            "updated_at": updated_at}


def test_the_newest_contact_a_hook_sent_is_read_and_a_partial_one_means_a_call(tmp_path):
    store = EventStore(tmp_path / "events.db")
    # out of order: the unsubscribe's hook arrives before the older update's retry
    store.append("contact_unsubscribed", "p1", "p1@x.io",
                 contact("p1", "2026-03-01T10:00:05.000Z", True))
    store.append("contact_updated", "p1", "p1@x.io",
                 contact("p1", "2026-03-01T10:00:00.000Z", False))
    store.append("contact_updated", "p2", "p2@x.io", contact("p2", "2026-03-01T10:00:00.000Z",
                                                             False))
    store.append("contact_added_to_list", "p2", "p2@x.io")  # no contact: p2 must be read
    store.append("contact_updated", "p3", "p3@x.io", {"contact_id": "p3"})  # not whole
    sent = sent_contacts(store.after(0, store.last_id()))
    assert set(sent) == {"p1"} and sent["p1"]["unsubscribed"] is True


def test_a_feed_file_of_an_older_receiver_gains_the_contact_column(tmp_path):
    path = tmp_path / "events.db"
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, received_at "
                      "TEXT NOT NULL, event TEXT NOT NULL, contact_id TEXT NOT NULL, email TEXT);"
                      "INSERT INTO events (received_at, event, contact_id, email) VALUES "
                      "('2026-03-01T10:00:00+00:00', 'contact_updated', 'p1', 'p1@x.io');")
    old.commit()
    old.close()
    store = EventStore(path)
    store.append("contact_updated", "p2", "p2@x.io", contact("p2", "2026-03-01T10:00:00Z", True))
    assert [(e.contact_id, e.contact is not None) for e in store.after(0, store.last_id())] == [
        ("p1", False), ("p2", True)]


def api_calls(sandbox, admin) -> dict[tuple[str, str], int]:
    return {(c["method"], c["endpoint"]): c["count"]
            for c in admin(sandbox, "GET", "/calls").json()["calls"]}


def test_registering_twice_reuses_the_hooks_and_a_new_secret_replaces_them(sandbox, admin,
                                                                          receiver):
    url, _, _ = receiver
    ap = sandbox.endpoints["autopilot"]
    args = (sandbox.autopilot_url, ap["api_key"])
    first = register(*args, target_url(url, SECRET), sandbox.ca_bundle)
    admin(sandbox, "DELETE", "/calls")
    assert register(*args, target_url(url, SECRET), sandbox.ca_bundle) == first
    assert api_calls(sandbox, admin) == {("GET", "/v1/hooks"): 1}
    rotated = register(*args, target_url(url, "another-secret-0123456789"), sandbox.ca_bundle)
    with requests.Session() as session:
        session.verify, session.trust_env = sandbox.ca_bundle, False
        hooks = session.get(f"{sandbox.autopilot_url}/hooks", timeout=30,
                            headers={"autopilotapikey": ap["api_key"]}).json()["hooks"]
    ours = [h for h in hooks if h["target_url"].startswith(url)]
    assert sorted(h["hook_id"] for h in ours) == sorted(rotated)
    assert len(ours) == len(EVENTS)


def wait_for(check, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def feed(records: list[dict]) -> set[str]:
    return {r["Email"] for r in records if r["Email"].endswith("@feed.example")}


def test_a_run_reads_only_the_contacts_the_events_name_and_the_scan_catches_a_lost_hook(
        sandbox, admin, receiver, seed_feed, tmp_path, run_tap, tap_config):
    url, store, server = receiver
    ap = sandbox.endpoints["autopilot"]
    register(sandbox.autopilot_url, ap["api_key"], target_url(url, SECRET), sandbox.ca_bundle)
    config = tap_config(sandbox, events_db=str(store.path), full_scan_interval_hours=24)
    first = run_tap(tmp_path / "1", config)  # no state: the first run is a full scan
    assert len(feed(first.records["contacts"])) == 150

    changed = ["p1@feed.example", "p2@feed.example", "p3@feed.example"]
    for email in changed:
        admin(sandbox, "POST", f"/contacts/{email}", json={"unsubscribed": True})
    # every event of each change delivered (updated and unsubscribed, in any order), so that
    # none arrives after the next run read the feed
    wait_for(lambda: {(d["email"], d["event"])
                      for d in admin(sandbox, "GET", "/hooks/deliveries").json()}
             >= {(e, kind) for e in changed
                 for kind in ("contact_updated", "contact_unsubscribed")}, "the hooks")
    admin(sandbox, "DELETE", "/calls")
    second = run_tap(tmp_path / "2", config, state=first.state)
    assert feed(second.records["contacts"]) == set(changed)
    assert all(r["unsubscribed"] for r in second.records["contacts"])
    # the hooks sent each contact whole: no call to read them
    assert api_calls(sandbox, admin) == {}

    # the run "crashed" before its STATE was stored: the same events are read again
    replay = run_tap(tmp_path / "2b", config, state=first.state)
    assert feed(replay.records["contacts"]) == set(changed)

    admin(sandbox, "DELETE", "/calls")
    idle = run_tap(tmp_path / "3", config, state=second.state)
    assert idle.records["contacts"] == [] and api_calls(sandbox, admin) == {}
    assert store.after(0, store.last_id()) == []  # consumed once their position was durable
    assert len(idle.stderr) > 0 and len(str(idle.state)) < 10_000

    server.shutdown()  # the receiver is down: the hook fails every try and is dropped
    server.server_close()
    admin(sandbox, "POST", "/contacts/p9@feed.example", json={"unsubscribed": True})
    wait_for(lambda: any(d["email"] == "p9@feed.example"
                         for d in admin(sandbox, "GET", "/hooks/dropped").json()), "the drop")
    missed = run_tap(tmp_path / "4", config, state=idle.state)
    assert feed(missed.records["contacts"]) == set(), missed.stderr[-3000:]  # no event: unknown
    net = run_tap(tmp_path / "5", {**config, "full_scan_interval_hours": 0}, state=missed.state)
    assert "p9@feed.example" in feed(net.records["contacts"])


@pytest.fixture
def seed_feed(sandbox, admin):
    admin(sandbox, "POST", "/contacts", json=[
        {"Email": f"p{i}@feed.example", "unsubscribed": False,
         "updated_at": "2025-01-01T00:00:00.000Z"} for i in range(150)])
