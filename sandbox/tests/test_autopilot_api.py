"""The Autopilot stand-in, driven with requests the way integrations call the real v1 API."""

from __future__ import annotations

import http.server
import re
import threading
import time

import requests

from consent_sandbox.testing import running_sandbox


def test_a_missing_or_wrong_key_is_refused_with_autopilots_bodies(sandbox):
    base = sandbox.endpoints["autopilot"]["base_url"]
    missing = requests.get(f"{base}/contacts", verify=sandbox.ca_bundle, timeout=30)
    assert (missing.status_code, missing.json()) == (
        400, {"error": "Bad Request", "message": "No autopilotapikey header provided."})
    wrong = requests.get(f"{base}/contacts", headers={"autopilotapikey": "nope"},
                         verify=sandbox.ca_bundle, timeout=30)
    assert (wrong.status_code, wrong.json()) == (
        401, {"error": "Unauthorized", "message": "Provided autopilotapikey not valid."})


def test_bulk_upsert_dedups_by_email_and_refuses_more_than_100(api):
    first = api("POST", "/contacts", json={"contacts": [
        {"Email": "ada@x.io", "FirstName": "Ada"}, {"Email": "alan@x.io"}]})
    assert first.status_code == 200 and len(first.json()["contact_ids"]) == 2
    again = api("POST", "/contact", json={"contact": {"Email": "ADA@x.io", "LastName": "L"}})
    assert again.json() == {"contact_id": first.json()["contact_ids"][0]}
    ada = api("GET", "/contact/ada@x.io").json()
    assert (ada["FirstName"], ada["LastName"], ada["unsubscribed"]) == ("Ada", "L", False)
    assert ada["contact_id"].startswith("person_") and ada["updated_at"].endswith("Z")
    too_many = api("POST", "/contacts", json={"contacts": [{"Email": f"p{i}@x.io"}
                                                           for i in range(101)]})
    assert too_many.status_code == 400 and too_many.json()["error"] == "Bad Request"
    bad = api("POST", "/contact", json={"contact": {"Email": "broken@@x.io"}})
    assert bad.status_code == 400 and "broken@@x.io" in bad.json()["message"]
    missing = api("GET", "/contact/nobody@x.io")
    assert (missing.status_code, missing.json()) == (
        404, {"error": "Not Found", "message": "Contact could not be found."})


def test_contacts_are_paged_100_at_a_time_by_bookmark(api):
    for start in range(0, 250, 100):
        api("POST", "/contacts", json={"contacts": [{"Email": f"p{i}@x.io"}
                                                    for i in range(start, min(start + 100, 250))]})
    page = api("GET", "/contacts").json()
    seen, pages = [c["Email"] for c in page["contacts"]], 1
    assert page["total_contacts"] == 250 and len(page["contacts"]) == 100
    while "bookmark" in page:
        page = api("GET", f"/contacts/{page['bookmark']}").json()
        seen += [c["Email"] for c in page["contacts"]]
        pages += 1
    assert pages == 3 and len(page["contacts"]) == 50
    assert sorted(seen) == sorted(f"p{i}@x.io" for i in range(250))


def test_unsubscribe_resubscribe_and_an_absent_flag_that_changes_nothing(api):
    api("POST", "/contact", json={"contact": {"Email": "u@x.io"}})
    before = api("GET", "/contact/u@x.io").json()
    assert api("POST", "/contact/u@x.io/unsubscribe").status_code == 200
    out = api("GET", "/contact/u@x.io").json()
    assert out["unsubscribed"] is True and out["updated_at"] >= before["updated_at"]
    api("POST", "/contact", json={"contact": {"Email": "u@x.io", "FirstName": "U"}})
    assert api("GET", "/contact/u@x.io").json()["unsubscribed"] is True  # absent: untouched
    stamp = api("GET", "/contact/u@x.io").json()["updated_at"]
    api("POST", "/contact", json={"contact": {"Email": "u@x.io", "FirstName": "U"}})
    assert api("GET", "/contact/u@x.io").json()["updated_at"] == stamp  # no change, no move
    api("POST", "/contact", json={"contact": {"Email": "u@x.io", "unsubscribed": False}})
    assert api("GET", "/contact/u@x.io").json()["unsubscribed"] is False


def test_custom_fields_are_written_by_type_and_read_back(api):
    api("POST", "/contact", json={"contact": {"Email": "c@x.io", "custom": {
        "string--Customer--Tier": "Gold", "integer--Seats": 12}}})
    contact = api("GET", "/contact/c@x.io").json()
    assert contact["custom_fields"] == [
        {"kind": "Customer Tier", "fieldType": "string", "value": "Gold"},
        {"kind": "Seats", "fieldType": "integer", "value": 12}]
    assert api("GET", "/contacts/custom_fields").json() == [
        {"name": "Customer Tier", "fieldType": "string"}, {"name": "Seats", "fieldType": "integer"}]
    wrong = api("POST", "/contact", json={"contact": {"Email": "c@x.io", "custom": {
        "integer--Seats": "many"}}})
    assert wrong.status_code == 400


def test_lists_membership_and_member_paging(api):
    list_id = api("POST", "/list", json={"name": "Salesforce Leads"}).json()["list_id"]
    assert list_id.startswith("contactlist_")
    dup = api("POST", "/list", json={"name": "Salesforce Leads"})
    assert (dup.status_code, dup.json()) == (
        409, {"error": "Conflict", "message": "A list with this name already exists."})
    assert api("GET", "/lists").json() == {"lists": [{"list_id": list_id,
                                                      "title": "Salesforce Leads"}]}
    api("POST", "/contact", json={"contact": {"Email": "m@x.io"}})
    assert api("GET", f"/list/{list_id}/contact/m@x.io").status_code == 404
    assert api("POST", f"/list/{list_id}/contact/m@x.io").status_code == 200
    assert api("GET", f"/list/{list_id}/contact/m@x.io").status_code == 200
    assert api("GET", "/contact/m@x.io").json()["lists"] == [list_id]
    members = api("GET", f"/list/{list_id}/contacts").json()
    assert [c["Email"] for c in members["contacts"]] == ["m@x.io"]
    assert "bookmark" not in members
    assert api("DELETE", f"/list/{list_id}/contact/m@x.io").status_code == 200
    assert api("GET", "/contact/m@x.io").json()["lists"] == []


def test_delete_removes_every_contact_with_the_address(sandbox, api):
    sandbox.admin("autopilot", "POST", "/contacts", json=[{"Email": "d@x.io"},
                                                         {"Email": "D@X.io"}])
    assert api("DELETE", "/contact/d@x.io").status_code == 204
    assert api("GET", "/contact/d@x.io").status_code == 404


def test_admin_edits_and_hard_bounces_move_updated_at(sandbox, api):
    sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "h@x.io", "updated_at": "Mon, 01 Jan 2024 10:00:00 GMT"}])
    assert api("GET", "/contact/h@x.io").json()["updated_at"] == "Mon, 01 Jan 2024 10:00:00 GMT"
    bounced = sandbox.admin("autopilot", "POST", "/contacts/h@x.io/hardbounce").json()
    assert len(bounced["mail_hardbounced"]) == 1
    assert bounced["updated_at"].endswith("Z")
    edited = sandbox.admin("autopilot", "POST", "/contacts/h@x.io",
                           json={"unsubscribed": True}).json()
    assert edited["unsubscribed"] is True


def test_hooks_deliver_events_to_a_loopback_listener(sandbox, api):
    received: list[dict] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            import json
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        hook_id = api("POST", "/hook", json={"event": "contact_unsubscribed",
                                             "target_url": url}).json()["hook_id"]
        assert api("GET", "/hooks").json()["hooks"][0]["hook_id"] == hook_id
        api("POST", "/contact", json={"contact": {"Email": "k@x.io"}})
        api("POST", "/contact/k@x.io/unsubscribe")
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(r["event"], r["email"]) for r in received] == [("contact_unsubscribed",
                                                                 "k@x.io")]
        assert api("DELETE", f"/hook/{hook_id}").status_code == 204
    finally:
        server.shutdown()


def test_over_the_rate_limit_answers_429_with_its_body(tmp_path):
    with running_sandbox(tmp_path, "--autopilot-rate-limit", "5") as sandbox:
        ap = sandbox.endpoints["autopilot"]
        session = requests.Session()
        session.verify = sandbox.ca_bundle
        session.trust_env = False
        answers = [session.get(f"{ap['base_url']}/lists", timeout=30,
                               headers={"autopilotapikey": ap["api_key"]}) for _ in range(10)]
        limited = [a for a in answers if a.status_code == 429]
        assert limited, [a.status_code for a in answers]
        assert limited[0].json() == {"error": "Too Many Requests",
                                     "message": "You have exceeded your request rate of 5 r/s."}


def test_contacts_lists_fields_and_hooks_survive_a_restart(tmp_path):
    with running_sandbox(tmp_path, "--autopilot-rate-limit", "1000") as sandbox:
        sandbox.admin("autopilot", "POST", "/contacts", json=[{"Email": "keep@x.io",
                                                               "lists": ["Kept"]}])
        ap = sandbox.endpoints["autopilot"]
        headers = {"autopilotapikey": ap["api_key"]}
        requests.post(f"{ap['base_url']}/contact", headers=headers, verify=sandbox.ca_bundle,
                      json={"contact": {"Email": "k2@x.io", "custom": {"integer--N": 1}}},
                      timeout=30).raise_for_status()
        requests.post(f"{ap['base_url']}/hook", headers=headers, verify=sandbox.ca_bundle,
                      json={"event": "contact_added", "target_url": "http://127.0.0.1:9/h"},
                      timeout=30).raise_for_status()
        before = sandbox.admin("autopilot", "GET", "/contacts").json()
    with running_sandbox(tmp_path, "--autopilot-rate-limit", "1000") as sandbox:
        ap = sandbox.endpoints["autopilot"]

        def get(path: str) -> object:
            return requests.get(f"{ap['base_url']}{path}", verify=sandbox.ca_bundle, timeout=30,
                                headers={"autopilotapikey": ap["api_key"]}).json()

        assert sandbox.admin("autopilot", "GET", "/contacts").json() == before
        assert [e["title"] for e in get("/lists")["lists"]] == ["Kept"]
        assert get("/contacts/custom_fields") == [{"name": "N", "fieldType": "integer"}]
        assert [h["event"] for h in get("/hooks")["hooks"]] == ["contact_added"]


def test_a_contact_reads_back_in_autopilots_shape(api):
    list_id = api("POST", "/list", json={"name": "Newsletter"}).json()["list_id"]
    created = api("POST", "/contact", json={"contact": {
        "Email": "Shape@X.io", "FirstName": "Sha", "MailingCountry": "NZ",
        "_autopilot_list": "Newsletter", "custom": {"boolean--Is--Customer": True}}})
    assert created.status_code == 200 and list(created.json()) == ["contact_id"]
    contact = api("GET", f"/contact/{created.json()['contact_id']}").json()
    assert set(contact) == {"contact_id", "Email", "FirstName", "MailingCountry", "unsubscribed",
                            "created_at", "updated_at", "lists", "custom_fields"}
    assert re.fullmatch(r"person_[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}",
                        contact["contact_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", contact["updated_at"])
    assert (contact["Email"], contact["lists"], contact["unsubscribed"]) == (
        "Shape@X.io", [list_id], False)
    assert contact["custom_fields"] == [
        {"kind": "Is Customer", "fieldType": "boolean", "value": True}]
    # the address is the key: another spelling finds it and keeps the first one
    api("POST", "/contact", json={"contact": {"Email": "shape@x.io", "FirstName": "Shay"}})
    again = api("GET", "/contact/SHAPE@x.io").json()
    assert (again["contact_id"], again["Email"], again["FirstName"]) == (
        contact["contact_id"], "Shape@X.io", "Shay")
    assert api("GET", "/smart_segments").json() == {"segments": []}


def test_every_change_moves_updated_at_and_a_no_op_does_not(api):
    cid = api("POST", "/contact", json={"contact": {"Email": "t@x.io"}}).json()["contact_id"]
    list_id = api("POST", "/list", json={"name": "T"}).json()["list_id"]
    stamps = [api("GET", f"/contact/{cid}").json()["updated_at"]]
    for method, path, body in [
            ("POST", "/contact", {"contact": {"Email": "t@x.io", "Title": "CTO"}}),
            ("POST", "/contact", {"contact": {"Email": "t@x.io", "Title": "CTO"}}),  # no-op
            ("POST", f"/contact/{cid}/unsubscribe", None),
            ("POST", f"/contact/{cid}/unsubscribe", None),  # already out: no-op
            ("POST", f"/list/{list_id}/contact/{cid}", None),
            ("DELETE", f"/list/{list_id}/contact/{cid}", None),
            ("POST", "/contact", {"contact": {"Email": "t@x.io", "unsubscribed": False}})]:
        assert api(method, path, json=body).status_code == 200
        stamps.append(api("GET", f"/contact/{cid}").json()["updated_at"])
    moved = [after > before for before, after in zip(stamps, stamps[1:], strict=False)]
    assert moved == [True, False, True, False, True, True, True]


def test_bad_input_is_refused_with_a_message_naming_it(api):
    cases = [
        ({"contact": {"Email": "no-at-sign"}}, "no-at-sign"),
        ({"contact": {"Email": "e@x.io", "custom": {"integer--Seats": 1.5}}}, "Seats"),
        ({"contact": {"Email": "e@x.io", "custom": {"boolean--Vip": "yes"}}}, "Vip"),
        ({"contact": {"Email": "e@x.io", "custom": {"date--Renewal": "soon"}}}, "Renewal"),
        ({"contact": {"Email": "e@x.io", "custom": {"colour--Eyes": "blue"}}}, "colour--Eyes"),
        ({"contact": {"Email": "e@x.io", "unsubscribed": "yes"}}, "unsubscribed"),
        ({"contact": {"Email": "e@x.io", "_autopilot_list": "No Such List"}}, "No Such List"),
    ]
    for body, named in cases:
        answer = api("POST", "/contact", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"] == "Bad Request" and named in answer.json()["message"]
    assert api("GET", "/contact/e@x.io").status_code == 404
    fine = api("POST", "/contact", json={"contact": {"Email": "e@x.io", "custom": {
        "float--Score": 2, "date--Renewal": "2025-01-31", "string--Plan": "Pro"}}})
    assert fine.status_code == 200
    assert api("GET", "/contacts/custom_fields").json() == [
        {"name": "Score", "fieldType": "float"}, {"name": "Renewal", "fieldType": "date"},
        {"name": "Plan", "fieldType": "string"}]
    retyped = api("POST", "/contact", json={"contact": {"Email": "e@x.io", "custom": {
        "integer--Plan": 3}}})
    assert retyped.status_code == 400 and "Plan" in retyped.json()["message"]


def test_one_bad_contact_fails_the_whole_bulk_call(api):
    answer = api("POST", "/contacts", json={"contacts": [
        {"Email": "good@x.io"}, {"Email": "bad@"}, {"Email": "also-good@x.io"}]})
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("contacts[1]: ")
    assert "bad@" in answer.json()["message"]
    assert api("GET", "/contacts").json() == {"contacts": [], "total_contacts": 0}
    exactly_100 = api("POST", "/contacts", json={"contacts": [{"Email": f"b{i}@x.io"}
                                                              for i in range(100)]})
    assert exactly_100.status_code == 200 and len(exactly_100.json()["contact_ids"]) == 100


def test_list_members_are_paged_and_a_bad_bookmark_is_refused(api):
    list_id = api("POST", "/list", json={"name": "Big"}).json()["list_id"]
    for start in range(0, 300, 100):
        api("POST", "/contacts", json={"contacts": [
            {"Email": f"l{i}@x.io", **({"_autopilot_list": list_id} if i % 3 else {})}
            for i in range(start, start + 100)]})
    members = api("GET", f"/list/{list_id}/contacts").json()
    seen, bookmarks = [c["Email"] for c in members["contacts"]], []
    assert members["total_contacts"] == 200
    while "bookmark" in members:
        bookmarks.append(members["bookmark"])
        members = api("GET", f"/list/{list_id}/contacts/{members['bookmark']}").json()
        seen += [c["Email"] for c in members["contacts"]]
    assert len(bookmarks) == 1 and seen == [f"l{i}@x.io" for i in range(300) if i % 3]
    assert bookmarks[0] == api("GET", "/contact/l149@x.io").json()["contact_id"]
    bad = api("GET", "/contacts/person_NOPE")
    assert bad.status_code == 400 and "person_NOPE" in bad.json()["message"]
    assert api("GET", "/list/contactlist_nope/contacts").status_code == 404
    assert api("POST", f"/list/{list_id}/contact/nobody@x.io").json() == {
        "error": "Not Found", "message": "Contact could not be found."}
