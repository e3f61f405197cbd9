"""The ActiveCampaign stand-in's admin surface, demo data and webhooks."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
import requests

from consent_sandbox.activecampaign.demo_loader import LISTS
from consent_sandbox.testing import running_sandbox

pytestmark = pytest.mark.xdist_group("sandbox-activecampaign")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("ac-demo"), "--demo-size", "60",
                         "--activecampaign-rate-limit", "1000") as sbx:
        yield sbx


@pytest.fixture(scope="module")
def sandbox(demo):
    return demo


def test_demo_account_looks_used(demo):
    contacts = demo.admin("activecampaign", "GET", "/contacts").json()
    assert len(contacts) > 20
    statuses = [{m["status"] for m in c["lists"]} for c in contacts]
    assert any(s == {2} for s in statuses)  # opted out: unsubscribed everywhere
    assert any({1, 2} <= s for s in statuses)  # left one list, still on another
    assert all(c["fields"].get("Country") for c in contacts)
    assert any(t.startswith("created-from-salesforce") for c in contacts for t in c["tags"])
    salesforce = demo.admin("salesforce", "GET", "/records/Lead").json()
    sf_emails = {(r.get("Email") or "").lower() for r in salesforce}
    assert any(c["email"].lower() in sf_emails for c in contacts)  # the same people
    lists = requests.get(f"{demo.activecampaign_url}/lists", verify=demo.ca_bundle, timeout=30,
                         headers={"Api-Token": demo.endpoints["activecampaign"]["api_token"]})
    assert [row["name"] for row in lists.json()["lists"]] == list(LISTS)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        _Hook.received.append({k: v[0] for k, v in parse_qs(body).items()})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhooks_are_form_encoded_and_fire_on_unsubscribe(sandbox):
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        headers = {"Api-Token": sandbox.endpoints["activecampaign"]["api_token"]}
        base = sandbox.activecampaign_url
        outside = requests.post(f"{base}/webhooks", headers=headers, verify=sandbox.ca_bundle,
                                timeout=30, json={"webhook": {
                                    "name": "x", "url": "https://example.com/hook",
                                    "events": ["unsubscribe"]}})
        assert outside.status_code == 422
        made = requests.post(f"{base}/webhooks", headers=headers, verify=sandbox.ca_bundle,
                             timeout=30, json={"webhook": {
                                 "name": "optouts", "events": ["unsubscribe", "subscribe"],
                                 "url": f"http://127.0.0.1:{server.server_port}/hook",
                                 "sources": ["public", "api"]}})
        assert made.status_code == 201 and made.json()["webhook"]["id"]
        sandbox.admin("activecampaign", "POST", "/contacts",
                      json=[{"email": "hook@conf.example", "lists": {"Hooked": "active"}}])
        sandbox.admin("activecampaign", "POST", "/contacts/hook@conf.example/unsubscribe")
        for _ in range(100):
            if _Hook.received:
                break
            time.sleep(0.05)
        event = _Hook.received[0]
        assert event["type"] == "unsubscribe" and event["initiated_from"] == "public"
        assert event["contact[email]"] == "hook@conf.example" and event["list"]
    finally:
        server.shutdown()


def test_admin_seed_edit_and_delete(sandbox):
    ids = sandbox.admin("activecampaign", "POST", "/contacts", json=[
        {"email": "admin@conf.example", "udate": "2020-01-01T00:00:00Z",
         "lists": {"Seeded": "bounced"}, "tags": ["legacy"]}]).json()["ids"]
    edited = sandbox.admin("activecampaign", "POST", "/contacts/admin@conf.example",
                           json={"firstName": "Edited"}).json()
    assert edited["firstName"] == "Edited" and edited["udate"] > "2020"
    assert edited["lists"][0]["status"] == 3 and edited["tags"] == ["legacy"]
    answer = sandbox.admin("activecampaign", "DELETE", f"/contacts/{ids[0]}")
    assert answer.status_code == 204
