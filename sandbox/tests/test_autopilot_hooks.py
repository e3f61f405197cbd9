"""REST hooks of the Autopilot stand-in, delivered to a listener on this machine's loopback."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest


class Listener:
    """A loopback HTTP server that records the hook calls and answers the statuses it is told."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.statuses: list[int] = []  # answered in turn; 200 once they run out
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                listener.received.append({"path": self.path, **body})
                self.send_response(listener.statuses.pop(0) if listener.statuses else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def wait_for(self, count: int, seconds: float = 10) -> list[dict]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.server.shutdown()
    server.server.server_close()


EVENTS = ["contact_added", "contact_updated", "contact_unsubscribed", "contact_added_to_list",
          "contact_removed_from_list"]



def deliveries(sandbox, count: int) -> list[dict]:
    """The sandbox's log of accepted deliveries, once it holds ``count``: the worker notes one
    when the listener's answer is back, a moment after the listener saw the request (CI on a
    loaded machine looked in between)."""
    deadline = time.monotonic() + 5
    while len(found := sandbox.admin("autopilot", "GET", "/hooks/deliveries").json()) < count \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    return found

def test_each_event_reaches_the_hooks_registered_for_it(sandbox, api, listener):
    hook_ids = [api("POST", "/hook", json={"event": e, "target_url": listener.url(f"/{e}")})
                .json()["hook_id"] for e in EVENTS]
    assert all(h.startswith("hook_") for h in hook_ids)
    assert api("GET", "/hooks").json() == {"hooks": [
        {"hook_id": h, "event": e, "target_url": listener.url(f"/{e}")}
        for h, e in zip(hook_ids, EVENTS, strict=True)]}
    list_id = api("POST", "/list", json={"name": "Hooked"}).json()["list_id"]
    cid = api("POST", "/contact", json={"contact": {"Email": "h@x.io"}}).json()["contact_id"]
    api("POST", "/contact", json={"contact": {"Email": "h@x.io", "FirstName": "H"}})
    api("POST", f"/contact/{cid}/unsubscribe")
    api("POST", f"/list/{list_id}/contact/{cid}")
    api("DELETE", f"/list/{list_id}/contact/{cid}")
    received = listener.wait_for(6)
    assert [(r["path"], r["event"]) for r in received] == [
        ("/contact_added", "contact_added"), ("/contact_updated", "contact_updated"),
        ("/contact_updated", "contact_updated"), ("/contact_unsubscribed", "contact_unsubscribed"),
        ("/contact_added_to_list", "contact_added_to_list"),
        ("/contact_removed_from_list", "contact_removed_from_list")]
    first = received[0]
    assert (first["contact_id"], first["email"]) == (cid, "h@x.io")
    assert first["contact"]["contact_id"] == cid and first["contact"]["lists"] == []
    assert received[4]["contact"]["lists"] == [list_id]
    delivered = deliveries(sandbox, 6)
    assert [d["event"] for d in delivered] == [r["event"] for r in received]
    assert delivered[0] == {"hook_id": hook_ids[0], "event": "contact_added",
                            "target_url": listener.url("/contact_added"), "contact_id": cid,
                            "email": "h@x.io", "attempts": 1}
    for hook_id in hook_ids:
        assert api("DELETE", f"/hook/{hook_id}").status_code == 204
    assert api("DELETE", f"/hook/{hook_ids[0]}").json() == {
        "error": "Not Found", "message": "Hook could not be found."}
    assert api("GET", "/hooks").json() == {"hooks": []}


def test_notify_false_sends_nothing(api, listener):
    api("POST", "/hook", json={"event": "contact_added", "target_url": listener.url("/a")})
    api("POST", "/contacts", json={"contacts": [{"Email": "quiet@x.io", "notify": False},
                                                {"Email": "loud@x.io"}]})
    assert [r["email"] for r in listener.wait_for(1)] == ["loud@x.io"]
    time.sleep(0.3)
    assert len(listener.received) == 1
    assert "notify" not in api("GET", "/contact/quiet@x.io").json()


def test_failures_are_retried_and_410_deletes_the_hook(sandbox, api, listener):
    api("POST", "/hook", json={"event": "contact_added", "target_url": listener.url("/flaky")})
    listener.statuses = [503, 200]
    api("POST", "/contact", json={"contact": {"Email": "r@x.io"}})
    assert [r["email"] for r in listener.wait_for(2)] == ["r@x.io", "r@x.io"]
    assert deliveries(sandbox, 1)[0]["attempts"] == 2

    listener.received.clear()
    listener.statuses = [410]
    api("POST", "/contact", json={"contact": {"Email": "s@x.io"}})
    listener.wait_for(1)
    deadline = time.monotonic() + 5
    while api("GET", "/hooks").json()["hooks"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api("GET", "/hooks").json() == {"hooks": []}


def test_hooks_must_name_a_known_event_and_a_loopback_url(api):
    unknown = api("POST", "/hook", json={"event": "contact_exploded",
                                         "target_url": "http://127.0.0.1:9/x"})
    assert unknown.status_code == 400 and "contact_exploded" in unknown.json()["message"]
    remote = api("POST", "/hook", json={"event": "contact_added",
                                        "target_url": "https://hooks.example.com/x"})
    assert remote.status_code == 400 and "127.0.0.1" in remote.json()["message"]
