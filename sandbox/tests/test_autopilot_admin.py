"""The Autopilot stand-in's admin surface: seeding as given, user edits, bounces, deletes."""

from __future__ import annotations

import requests


def admin(sandbox, method: str, path: str, **kwargs: object) -> requests.Response:
    """An admin call that may fail (RunningSandbox.admin raises on any error status)."""
    base = sandbox.autopilot_url.rsplit("/v1", 1)[0]
    return requests.request(method, f"{base}/_sandbox{path}", verify=sandbox.ca_bundle,
                            timeout=30, **kwargs)


def test_seeded_rows_are_served_as_given(sandbox, api):
    rows = [
        {"Email": "legacy@x.io", "updated_at": "Mon, 01 Jan 2024 10:00:00 GMT",
         "lists": ["Old Customers"]},
        {"Email": "epoch@x.io", "updated_at": 1704103200000, "unsubscribed": True,
         "mail_hardbounced": {"mail_1": 1704103200000}, "lists": ["Old Customers", "VIP"]},
        {"Email": "not an email", "FirstName": "Broken"},
    ]
    ids = sandbox.admin("autopilot", "POST", "/contacts", json=rows).json()["contact_ids"]
    assert len(ids) == 3 and all(i.startswith("person_") for i in ids)
    lists = api("GET", "/lists").json()["lists"]
    assert [entry["title"] for entry in lists] == ["Old Customers", "VIP"]
    epoch = api("GET", f"/contact/{ids[1]}").json()
    assert (epoch["updated_at"], epoch["unsubscribed"], epoch["mail_hardbounced"]) == (
        1704103200000, True, {"mail_1": 1704103200000})
    assert epoch["lists"] == [entry["list_id"] for entry in lists]
    page = api("GET", "/contacts").json()
    assert [c["Email"] for c in page["contacts"]] == ["legacy@x.io", "epoch@x.io", "not an email"]
    assert page["contacts"][0]["updated_at"] == "Mon, 01 Jan 2024 10:00:00 GMT"
    everything = sandbox.admin("autopilot", "GET", "/contacts").json()
    assert everything == page["contacts"]


def test_a_user_edit_resubscribes_moves_the_stamp_and_fires_hooks(sandbox, api):
    sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "dana@x.io", "unsubscribed": True, "updated_at": 1704103200000}])
    edited = sandbox.admin("autopilot", "POST", "/contacts/DANA@x.io",
                           json={"unsubscribed": False}).json()
    assert edited["unsubscribed"] is False and edited["updated_at"].endswith("Z")
    assert api("GET", "/contact/dana@x.io").json() == edited
    again = sandbox.admin("autopilot", "POST", "/contacts/dana@x.io",
                          json={"unsubscribed": False}).json()
    assert again["updated_at"] == edited["updated_at"]  # nothing changed
    bounced = sandbox.admin("autopilot", "POST", "/contacts/dana@x.io/hardbounce").json()
    [(mail_id, when)] = bounced["mail_hardbounced"].items()
    assert mail_id.startswith("mail_") and isinstance(when, int)
    assert bounced["updated_at"] > edited["updated_at"]
    assert admin(sandbox, "POST", "/contacts/nobody@x.io", json={}).status_code == 404


def test_delete_reset_and_an_empty_store(sandbox, api):
    sandbox.admin("autopilot", "POST", "/contacts", json=[{"Email": "gone@x.io"}])
    assert admin(sandbox, "DELETE", "/contacts/gone@x.io").status_code == 204
    assert admin(sandbox, "DELETE", "/contacts/gone@x.io").status_code == 404
    api("POST", "/list", json={"name": "L"})
    api("POST", "/contact", json={"contact": {"Email": "k@x.io", "custom": {"string--A": "b"}}})
    sandbox.admin("autopilot", "POST", "/reset")
    assert sandbox.admin("autopilot", "GET", "/contacts").json() == []
    assert api("GET", "/lists").json() == {"lists": []}
    assert api("GET", "/contacts/custom_fields").json() == []
    assert sandbox.admin("autopilot", "GET", "/hooks/deliveries").json() == []


def test_admin_calls_are_neither_counted_nor_rate_limited(sandbox, api):
    sandbox.admin("autopilot", "DELETE", "/calls")
    for _ in range(3):
        sandbox.admin("autopilot", "GET", "/contacts")
    api("GET", "/contacts")
    calls = sandbox.calls("autopilot")
    assert calls["total"] == 1
    assert calls["calls"] == [{"method": "GET", "endpoint": "/v1/contacts", "count": 1}]
