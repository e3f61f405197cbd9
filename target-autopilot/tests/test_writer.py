"""ContactWriter's calls for given records, with the HTTP layer mocked (requests-mock)."""

from __future__ import annotations

import re

import pytest

from target_autopilot.client import AutopilotClient
from target_autopilot.writer import AutopilotAuthError, ContactWriter

BASE = "https://autopilot.example/v1"


@pytest.fixture
def api(requests_mock):
    requests_mock.post(f"{BASE}/contacts", json={"contact_ids": []})
    requests_mock.post(f"{BASE}/contact", json={"contact_id": "person_1"})
    requests_mock.get(f"{BASE}/lists", json={"lists": [{"list_id": "contactlist_old",
                                                        "title": "Old"}]})
    requests_mock.post(f"{BASE}/list", json={"list_id": "contactlist_new"})
    requests_mock.get(f"{BASE}/contacts/custom_fields",
                      json=[{"name": "Seats", "fieldType": "float"}])
    requests_mock.get(re.compile(r"/v1/list/[^/]+/contacts$"),
                      json={"contacts": [], "total_contacts": 0})
    membership = re.compile(r"/v1/list/[^/]+/contact/[^/]+$")
    requests_mock.post(membership, status_code=200)
    requests_mock.delete(membership, status_code=200)
    return requests_mock


def writer(**kwargs: object) -> ContactWriter:
    return ContactWriter(AutopilotClient(BASE, "k", rate_limit_per_second=0, max_retries=0),
                         **kwargs)


def calls(api) -> list[str]:
    return [f"{r.method} {r.path.removeprefix('/v1')}" for r in api.request_history]


def test_250_records_go_in_bulk_calls_of_100_and_nothing_else(api):
    w = writer()
    w.write({"Email": f"p{i}@x.io"} for i in range(250))
    assert calls(api) == ["POST /contacts"] * 3
    assert [len(r.json()["contacts"]) for r in api.request_history] == [100, 100, 50]
    assert w.written == 250 and w.failures == []


def test_a_refused_bulk_is_resent_one_by_one_and_only_the_bad_record_fails(api):
    api.post(f"{BASE}/contacts", status_code=400,
             json={"error": "Bad Request", "message": "Contact Email 'c@x.q' is bad."})
    api.post(f"{BASE}/contact", status_code=400,
             additional_matcher=lambda r: r.json()["contact"]["Email"] == "c@x.q",
             json={"error": "Bad Request", "message": "Contact Email is bad."})
    w = writer(membership="always")
    w.write([{"Email": "a@x.io", "lists": ["Old"]}, {"Email": "c@x.q", "lists": ["Old"]},
             {"Email": "b@x.io"}, {"Email": "not-an-email"}])
    assert [(f.email, "400 Contact Email is bad." in f.reason) for f in w.failures] == [
        ("not-an-email", False), ("c@x.q", True)]
    assert "not a valid address" in w.failures[0].reason
    assert calls(api) == ["POST /contacts", "POST /contact", "POST /contact", "POST /contact",
                          "GET /lists", "GET /list/contactlist_old/contacts",
                          "POST /list/contactlist_old/contact/a@x.io"]
    assert w.written == 2  # the refused contact joins no list; the invalid one was never sent


def test_order_holds_when_an_email_comes_back_in_the_same_batch(api):
    api.delete(f"{BASE}/contact/a@x.io", status_code=204)
    w = writer()
    w.write([{"Email": "a@x.io"}, {"Email": "b@x.io"}, {"Email": "A@x.io", "FirstName": "A"},
             {"Email": "a@x.io", "_sdc_deleted_at": "2026-01-01T00:00:00Z"}])
    assert calls(api) == ["POST /contacts", "POST /contacts", "DELETE /contact/a@x.io"]
    assert [len(r.json()["contacts"]) for r in api.request_history[:2]] == [2, 1]
    assert (w.written, w.deleted) == (3, 1)


def test_deleting_a_contact_already_gone_is_fine(api):
    api.delete(f"{BASE}/contact/gone@x.io", status_code=404,
               json={"error": "Not Found", "message": "Contact could not be found."})
    w = writer()
    w.write([{"Email": "gone@x.io", "_sdc_deleted_at": "2026-01-01T00:00:00Z"}])
    assert (w.deleted, w.failures) == (1, [])


def test_lists_are_read_once_created_once_and_joined_or_left_per_contact(api):
    w = writer(membership="always")
    w.write([{"Email": "a@x.io", "lists": ["New"]},
             {"Email": "b@x.io", "lists": ["New", "Old"], "lists_remove": ["Nowhere"]}])
    w.write([{"Email": "b@x.io", "lists_remove": ["Old"]}])
    assert calls(api) == [
        "POST /contacts", "GET /lists", "POST /list", "POST /list/contactlist_new/contact/a@x.io",
        "POST /list/contactlist_new/contact/b@x.io", "GET /list/contactlist_old/contacts",
        "POST /list/contactlist_old/contact/b@x.io",
        "POST /contacts", "DELETE /list/contactlist_old/contact/b@x.io"]
    assert api.request_history[2].json() == {"name": "New"}
    assert "_autopilot_list" not in api.request_history[0].json()["contacts"][0]


def test_on_create_joins_the_first_list_inside_the_upsert(api):
    writer(membership="on_create").write([{"Email": "a@x.io", "lists": ["Old", "New"]}])
    assert calls(api) == ["GET /lists", "POST /contacts", "POST /list",
                          "POST /list/contactlist_new/contact/a@x.io"]  # no read of a new list
    assert api.request_history[1].json()["contacts"][0]["_autopilot_list"] == "contactlist_old"


def test_checked_joins_a_first_load_inside_the_upserts_and_checks_the_count_once(api):
    api.get(f"{BASE}/list/contactlist_new/contacts", json={"contacts": [], "total_contacts": 150})
    w = writer()
    w.write([{"Email": f"p{i}@x.io", "lists": ["New"]} for i in range(150)])
    w.settle()
    assert calls(api) == ["GET /lists", "POST /list", "POST /contacts", "POST /contacts",
                          "GET /list/contactlist_new/contacts"]
    sent = api.request_history[2].json()["contacts"]
    assert {c["_autopilot_list"] for c in sent} == {"contactlist_new"}
    assert w.failures == []


def test_checked_joins_by_call_what_the_count_shows_missing(api):
    # the list had 1 member (a@x.io); b and c were sent inside upserts, but the count is 2
    api.get(f"{BASE}/list/contactlist_old/contacts", [
        {"json": {"contacts": [{"Email": "a@x.io"}], "total_contacts": 1}},
        {"json": {"contacts": [{"Email": "a@x.io"}, {"Email": "b@x.io"}],
                  "total_contacts": 2}}])
    w = writer()
    w.write([{"Email": e, "lists": ["Old"]} for e in ("a@x.io", "b@x.io", "c@x.io")])
    w.settle()
    assert calls(api) == ["GET /lists", "GET /list/contactlist_old/contacts", "POST /contacts",
                          "GET /list/contactlist_old/contacts",
                          "POST /list/contactlist_old/contact/c@x.io"]
    assert "_autopilot_list" not in api.request_history[2].json()["contacts"][0]  # a member
    w.settle()  # nothing open any more: no call
    assert len(api.request_history) == 5


def test_custom_field_types_are_read_once_per_run(api):
    w = writer()
    w.write([{"Email": "a@x.io", "custom_fields": {"Seats": 3, "Tier": "Gold"}}])
    w.write([{"Email": "b@x.io", "custom_fields": {"Tier": "Silver"}}])
    assert calls(api) == ["GET /contacts/custom_fields", "POST /contacts", "POST /contacts"]
    assert api.request_history[1].json()["contacts"][0]["custom"] == {
        "float--Seats": 3.0, "string--Tier": "Gold"}


def test_a_refused_list_join_is_reported_but_the_contact_counts_as_written(api):
    api.post(f"{BASE}/list/contactlist_old/contact/a@x.io", status_code=400,
             json={"error": "Bad Request", "message": "nope"})
    w = writer(membership="always")
    w.write([{"Email": "a@x.io", "lists": ["Old"]}])
    assert w.written == 1 and w.lists.known("Old") == "contactlist_old"
    assert [(f.email, f.reason) for f in w.failures] == [
        ("a@x.io", "written, but could not join list 'Old': Autopilot answered 400 nope")]


def test_a_refused_key_stops_the_run_instead_of_failing_every_record(api):
    api.post(f"{BASE}/contacts", status_code=401,
             json={"error": "Unauthorized", "message": "Provided autopilotapikey not valid."})
    with pytest.raises(AutopilotAuthError, match="check the api_key setting"):
        writer().write([{"Email": "a@x.io"}, {"Email": "b@x.io"}])
    assert calls(api) == ["POST /contacts"]


def test_checked_joins_forget_members_past_max_known_and_still_check_a_contact_sent_again(
        api, monkeypatch):
    from target_autopilot import checked_joins

    monkeypatch.setattr(checked_joins, "MAX_KNOWN", 2)
    members = {"contacts": [{"Email": f"p{i}@x.io"} for i in range(3)], "total_contacts": 3}
    api.get(f"{BASE}/list/contactlist_new/contacts", json=members)
    w = writer()
    w.write([{"Email": f"p{i}@x.io", "lists": ["New"]} for i in range(3)])
    w.settle()
    tracked = w.joins._lists["contactlist_new"]
    assert (tracked.emails, tracked.complete, tracked.count) == (set(), False, 3)  # exact
    w.write([{"Email": "p0@x.io", "lists": ["New"]}])  # no longer known: rides on the upsert
    w.settle()
    assert api.request_history[-2].json()["contacts"][0]["_autopilot_list"] == "contactlist_new"
    assert calls(api)[-1] == "GET /list/contactlist_new/contacts"  # seen there: no join call
    assert w.failures == [] and len(tracked.emails) <= 2


def test_checked_joins_into_a_list_known_whole_read_no_more_than_its_first_page(api):
    # "New" is created by the run and filled by 150 upserts: every member is known. Its joins by
    # call for 150 more contacts (whose upserts carried "Old") need no second page of it.
    first = [{"Email": f"p{i}@x.io"} for i in range(100)]
    api.get(f"{BASE}/list/contactlist_new/contacts",
            json={"contacts": first, "total_contacts": 150, "bookmark": "p99@x.io"})
    page_two = api.get(f"{BASE}/list/contactlist_new/contacts/p99@x.io",
                       json={"contacts": [{"Email": f"p{i}@x.io"} for i in range(100, 150)],
                             "total_contacts": 150})
    api.get(f"{BASE}/list/contactlist_old/contacts", [
        {"json": {"contacts": [], "total_contacts": 0}},
        {"json": {"contacts": [], "total_contacts": 150, "bookmark": "q99@x.io"}}])
    w = writer()
    w.write([{"Email": f"p{i}@x.io", "lists": ["New"]} for i in range(150)])
    w.settle()
    w.write([{"Email": f"q{i}@x.io", "lists": ["Old", "New"]} for i in range(150)])
    w.settle()
    joins = [c for c in calls(api) if c.startswith("POST /list/contactlist_new/contact/")]
    assert len(joins) == 150 and not page_two.called
    assert calls(api).count("GET /list/contactlist_new/contacts") == 2
    tracked = w.joins._lists["contactlist_new"]
    assert (tracked.complete, tracked.count, len(tracked.emails)) == (True, 300, 300)
    assert w.failures == []
