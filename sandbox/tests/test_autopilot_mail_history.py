"""The Autopilot stand-in's mail history: served on contacts as Autopilot reads them (objects of
mail id -> epoch ms), and added through the admin surface as Autopilot records mail events."""

from __future__ import annotations

import requests

from consent_sandbox.salesforce.testing import trusting_session


def api(sandbox, path: str) -> dict:
    ap = sandbox.endpoints["autopilot"]
    session = trusting_session(sandbox)
    session.headers["autopilotapikey"] = ap["api_key"]
    return session.get(f"{ap['base_url']}{path}", timeout=30).json()


def test_seeded_mail_history_is_served_on_every_read(sandbox):
    sandbox.admin("autopilot", "POST", "/reset")
    history = {"mail_received": {"m1": 1764547200000, "m2": 1764550800000},
               "mail_opened": {"m1": 1764548000000}, "mail_clicked": {"m1": 1764548100000},
               "mail_bounced": {"m2": 1764550900000}, "mail_unsubscribed": {"m1": 1764549000000}}
    [contact_id] = sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "ada@x.io", **history}]).json()["contact_ids"]
    one = api(sandbox, f"/contact/{contact_id}")
    page = api(sandbox, "/contacts")["contacts"]
    for read in (one, page[0], api(sandbox, "/contact/ada@x.io")):
        assert {k: read[k] for k in history} == history
    assert "mail_hardbounced" not in one  # only once there is one


def test_a_mail_event_adds_to_its_history_and_moves_updated_at(sandbox):
    sandbox.admin("autopilot", "POST", "/reset")
    sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "bo@x.io", "updated_at": "2026-01-01T00:00:00.000Z"}])
    opened = sandbox.admin("autopilot", "POST", "/contacts/BO@x.io/mail",
                           json={"event": "opened", "mail_id": "mail_7", "at": 1764547200000})
    doc = opened.json()
    assert doc["mail_opened"] == {"mail_7": 1764547200000}
    assert doc["updated_at"] > "2026-01-01T00:00:00.000Z"
    clicked = sandbox.admin("autopilot", "POST", "/contacts/bo@x.io/mail",
                            json={"event": "clicked"}).json()
    [(mail_id, at)] = clicked["mail_clicked"].items()
    assert mail_id.startswith("mail_") and isinstance(at, int)
    assert clicked["mail_opened"] == {"mail_7": 1764547200000}  # earlier history stays
    assert clicked["updated_at"] > doc["updated_at"]
    assert api(sandbox, "/contact/bo@x.io")["mail_clicked"] == clicked["mail_clicked"]


def test_a_mail_event_of_an_unknown_kind_or_contact_is_refused(sandbox):
    sandbox.admin("autopilot", "POST", "/reset")
    sandbox.admin("autopilot", "POST", "/contacts", json=[{"Email": "cy@x.io"}])
    base = sandbox.autopilot_url.rsplit("/v1", 1)[0]

    def post(ref: str, body: dict) -> requests.Response:
        return requests.post(f"{base}/_sandbox/contacts/{ref}/mail", json=body,
                             verify=sandbox.ca_bundle, timeout=30)

    bad = post("cy@x.io", {"event": "forwarded"})
    assert bad.status_code == 400 and "forwarded" in bad.json()["message"]
    assert post("cy@x.io", {"event": "opened", "at": "yesterday"}).status_code == 400
    assert post("nobody@x.io", {"event": "opened"}).status_code == 404
