"""Conformance of the ActiveCampaign v3 stand-in: documented shapes, status codes and error
bodies, with plain requests, and the public `activecampaign-python` client unchanged."""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = pytest.mark.xdist_group("sandbox-activecampaign")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """This module's own sandbox, above ActiveCampaign's 5 calls a second."""
    from consent_sandbox.testing import running_sandbox

    with running_sandbox(tmp_path_factory.mktemp("ac"), "--activecampaign-rate-limit",
                         "1000") as sbx:
        yield sbx


@pytest.fixture(scope="module")
def ac(sandbox):
    """`ac(method, path, **kwargs)` against the API with the right token."""
    sandbox.admin("activecampaign", "POST", "/reset")
    session = requests.Session()
    session.trust_env = False
    session.verify = sandbox.ca_bundle
    session.headers["Api-Token"] = sandbox.endpoints["activecampaign"]["api_token"]

    def call(method: str, path: str, **kwargs: object) -> requests.Response:
        return session.request(method, f"{sandbox.activecampaign_url}{path}", timeout=30,
                               **kwargs)
    return call


@pytest.fixture(scope="module")
def newsletter(ac) -> str:
    return ac("POST", "/lists", json={"list": {"name": "Newsletter",
                                               "sender_url": "https://example.com"}}
              ).json()["list"]["id"]


def test_token_is_required(sandbox):
    url = f"{sandbox.activecampaign_url}/contacts"
    for headers in ({}, {"Api-Token": "wrong"}):
        answer = requests.get(url, headers=headers, verify=sandbox.ca_bundle, timeout=30)
        assert answer.status_code == 403
        assert answer.json() == {"message": "You are not authorized to access this resource"}


def test_sync_creates_then_updates_with_ids_as_strings(ac):
    created = ac("POST", "/contact/sync", json={"contact": {"email": "Sync@Conf.example",
                                                            "firstName": "Ada"}})
    assert created.status_code == 201
    contact = created.json()["contact"]
    assert isinstance(contact["id"], str) and contact["bounced_hard"] == "0"
    assert contact["udate"][-6] in "+-" and "T" in contact["udate"]  # the account's offset
    updated = ac("POST", "/contact/sync", json={"contact": {"email": "sync@conf.example",
                                                            "lastName": "Lovelace"}})
    assert updated.status_code == 200
    assert updated.json()["contact"]["id"] == contact["id"]
    assert updated.json()["contact"]["firstName"] == "Ada"


def test_error_bodies_differ_by_endpoint(ac):
    ac("POST", "/contact/sync", json={"contact": {"email": "sync@conf.example"}})
    duplicate = ac("POST", "/contacts", json={"contact": {"email": "sync@conf.example"}})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["code"] == "duplicate"
    assert duplicate.json()["errors"][0]["title"] == "Email address already exists in the system"
    bad = ac("POST", "/contact/sync", json={"contact": {"email": "nope"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "email_invalid"
    missing = ac("GET", "/contacts/999999")
    assert missing.status_code == 404
    assert missing.json() == {"message": "No Result found for Subscriber with id 999999"}
    gone = ac("DELETE", "/contacts/999999")
    assert gone.json() == {"message": "No result found for contact with id 999999"}
    assert ac("POST", "/lists", data="{not json").json() == {}
    assert ac("POST", "/contactTags", json={"contactTag": {"tag": "1"}}).status_code == 422


def test_paging_limit_offset_and_meta_total(ac):
    for n in range(25):
        ac("POST", "/contact/sync", json={"contact": {"email": f"page{n:02d}@conf.example"}})
    first = ac("GET", "/contacts", params={"email_like": "page"}).json()
    assert len(first["contacts"]) == 20 and first["meta"]["total"] == "25"  # default 20
    capped = ac("GET", "/contacts", params={"email_like": "page", "limit": 500}).json()
    assert len(capped["contacts"]) == 25  # at most 100 a page
    second = ac("GET", "/contacts", params={"email_like": "page", "offset": 20}).json()
    assert [c["email"] for c in second["contacts"]] == [f"page{n}@conf.example"
                                                        for n in range(20, 25)]
    ids = [int(c["id"]) for c in capped["contacts"]]
    keyset = ac("GET", "/contacts", params={"email_like": "page", "orders[id]": "ASC",
                                            "id_greater": ids[9]}).json()
    assert [int(c["id"]) for c in keyset["contacts"]] == sorted(ids)[10:]


def test_list_status_and_side_loaded_contact(ac, newsletter):
    ac("POST", "/contact/sync", json={"contact": {"email": "sync@conf.example"}})
    contact_id = ac("GET", "/contacts", params={"email": "SYNC@conf.example"}
                    ).json()["contacts"][0]["id"]
    answer = ac("POST", "/contactLists", json={"contactList": {
        "list": newsletter, "contact": contact_id, "status": 1}})
    assert answer.status_code == 200 and answer.json()["contactList"]["status"] == 1
    ac("POST", "/contactLists", json={"contactList": {"list": newsletter,
                                                      "contact": contact_id, "status": 2}})
    full = ac("GET", f"/contacts/{contact_id}").json()
    assert full["contactLists"][0]["status"] == "2" and full["contact"]["contactLists"]
    assert {"fieldValues", "contactAutomations", "geoIps", "deals"} <= set(full)
    listed = ac("GET", "/contacts", params={"listid": newsletter, "status": 2}).json()
    assert [c["id"] for c in listed["contacts"]] == [contact_id]
    own = ac("GET", f"/contacts/{contact_id}/contactLists").json()["contactLists"]
    assert own[0]["updated_timestamp"] and own[0]["udate"]
    wrong = ac("POST", "/contactLists", json={"contactList": {"list": 999, "contact": contact_id,
                                                              "status": 1}})
    assert wrong.status_code == 404


def test_list_status_change_moves_udate_only_when_configured(sandbox, ac, newsletter):
    contact = ac("POST", "/contact/sync", json={"contact": {"email": "udate@conf.example"}}
                 ).json()["contact"]
    time.sleep(1.1)  # udate has whole seconds
    ac("POST", "/contactLists", json={"contactList": {"list": newsletter,
                                                      "contact": contact["id"], "status": 1}})
    assert ac("GET", f"/contacts/{contact['id']}").json()["contact"]["udate"] == contact["udate"]
    sandbox.admin("activecampaign", "POST", "/settings", json={"list_status_moves_udate": True})
    try:
        ac("POST", "/contactLists", json={"contactList": {"list": newsletter,
                                                          "contact": contact["id"], "status": 2}})
        moved = ac("GET", f"/contacts/{contact['id']}").json()["contact"]["udate"]
        assert moved > contact["udate"]
        after = ac("GET", "/contacts", params={"filters[updated_after]": contact["udate"],
                                               "email": "udate@conf.example"}).json()
        assert after["meta"]["total"] == "1"
    finally:
        sandbox.admin("activecampaign", "POST", "/settings",
                      json={"list_status_moves_udate": False})


def test_tags_fields_and_bounces(sandbox, ac):
    tag = ac("POST", "/tags", json={"tag": {"tag": "customer", "tagType": "contact"}})
    assert tag.status_code == 201
    assert ac("POST", "/tags", json={"tag": {"tag": "Customer"}}).status_code == 422
    field = ac("POST", "/fields", json={"field": {"type": "text", "title": "Country"}})
    assert field.status_code == 201
    field_id = field.json()["field"]["id"]
    contact = ac("POST", "/contact/sync", json={"contact": {
        "email": "tags@conf.example", "fieldValues": [{"field": field_id, "value": "Peru"}]}}
                 ).json()
    assert contact["fieldValues"][0]["value"] == "Peru"
    contact_id = contact["contact"]["id"]
    link = ac("POST", "/contactTags", json={"contactTag": {"contact": contact_id,
                                                           "tag": tag.json()["tag"]["id"]}})
    assert link.status_code == 201
    tagged = ac("GET", "/contacts", params={"tagid": tag.json()["tag"]["id"]}).json()
    assert [c["id"] for c in tagged["contacts"]] == [contact_id]
    assert ac("DELETE", f"/contactTags/{link.json()['contactTag']['id']}").json() == {}
    sandbox.admin("activecampaign", "POST", "/contacts/tags@conf.example/hardbounce")
    assert ac("GET", f"/contacts/{contact_id}").json()["contact"]["bounced_hard"] == "1"
    logs = ac("GET", f"/contacts/{contact_id}/bounceLogs").json()["bounceLogs"]
    assert len(logs) == 1 and logs[0]["email"] == "tags@conf.example"
    values = ac("GET", "/fieldValues", params={"filters[fieldid]": field_id}).json()
    assert values["meta"]["total"] == "1"


def test_bulk_import_queues_processes_and_keeps_unsubscribes(ac, newsletter):
    ac("POST", "/contact/sync", json={"contact": {"email": "left@conf.example"}})
    left = ac("GET", "/contacts", params={"email": "left@conf.example"}).json()["contacts"][0]
    ac("POST", "/contactLists", json={"contactList": {"list": newsletter,
                                                      "contact": left["id"], "status": 2}})
    queued = ac("POST", "/import/bulk_import", json={"contacts": [
        {"email": "bulk1@conf.example", "first_name": "Bulk", "tags": ["imported"],
         "subscribe": [{"listid": newsletter}]},
        {"email": "left@conf.example", "subscribe": [{"listid": newsletter}]},
        {"email": "nolist@conf.example", "subscribe": [{"listid": "999"}]},
    ]})
    assert queued.status_code == 200 and queued.json()["queued_contacts"] == 3
    batch = queued.json()["batchId"]
    info = ac("GET", "/import/info", params={"batchId": batch}).json()
    assert info["status"] == "completed" and info["failure"] == ["nolist@conf.example"]
    assert len(info["success"]) == 2 and all(isinstance(i, str) for i in info["success"])
    again = ac("GET", f"/contacts/{left['id']}/contactLists").json()["contactLists"]
    assert again[0]["status"] == "2"  # an import never re-subscribes
    assert ac("GET", "/import/bulk_import").json()["recentlyCompleted"]
    refused = ac("POST", "/import/bulk_import", json={"contacts": [{"email": "x"}]})
    assert refused.status_code == 400
    assert refused.json()["failureReasons"] == [{"contact": 0, "failureReason":
                                                 "Field 'email' incorrect format"}]
    too_many = ac("POST", "/import/bulk_import", json={"contacts": [
        {"email": f"m{n}@conf.example"} for n in range(251)]})
    assert too_many.status_code == 400 and too_many.json()["success"] == 0
    assert ac("GET", "/import/info").status_code == 400


def test_rate_limit_answers_429_with_retry_after(sandbox):
    sandbox.admin("activecampaign", "POST", "/settings", json={"rate_limit": 5})  # documented
    try:
        headers = {"Api-Token": sandbox.endpoints["activecampaign"]["api_token"]}
        with requests.Session() as session:
            session.trust_env = False
            codes = [session.get(f"{sandbox.activecampaign_url}/lists", headers=headers,
                                 verify=sandbox.ca_bundle, timeout=30) for _ in range(7)]
    finally:
        sandbox.admin("activecampaign", "POST", "/settings", json={"rate_limit": 1000})
    limited = [r for r in codes if r.status_code == 429]
    assert limited and limited[0].headers["Retry-After"] == "1"
    assert sum(r.status_code == 200 for r in codes) <= 5


def test_public_python_client_works_with_only_url_and_token(sandbox, monkeypatch, newsletter):
    """`activecampaign-python` (PyPI) builds `<url>/api/3` itself and uses requests' default
    trust, so the sandbox CA comes in through REQUESTS_CA_BUNDLE, as for any private CA."""
    from activecampaign.client import Client

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_bundle)
    client = Client(sandbox.activecampaign_url.removesuffix("/api/3"),
                    sandbox.endpoints["activecampaign"]["api_token"])
    made = client.contacts.create_or_update_contact(
        {"contact": {"email": "client@conf.example", "firstName": "Client"}})
    contact_id = made["contact"]["id"]
    client.contacts.update_list_status_for_a_contact(
        {"contactList": {"list": newsletter, "contact": contact_id, "status": 1}})
    found = client.contacts.list_all_contacts(email="client@conf.example")
    assert found["contacts"][0]["firstName"] == "Client"
    assert client.contacts.retrieve_a_contact(contact_id)["contactLists"][0]["status"] == "1"
    assert client.lists.retrieve_all_lists()["meta"]["total"] >= "1"
    assert client.contacts.delete_a_contact(contact_id) == {}
