"""A re-subscribe is never sent to a contact whose consent no read has shown (R4), even after an
opt-out of ours was sent to it.

Found by the chaos suite (trial stop24e 9): the first run to commit wrote an opt-out to a
contact that existed before the sync, and died before the write landed; no run had read
Autopilot yet. The Lead then re-subscribed in Salesforce, the person opted out in Autopilot, and
the next run re-subscribed the contact over that opt-out: an opt-in nobody made. Held back, the
re-subscribe waits for the contact's first read, which decides by which change came later.
"""

from __future__ import annotations

import time


def test_held_re_subscribes_wait_for_a_read_and_the_later_change_wins(systems, meltano):
    """Four held re-subscribes, one sandbox and one run sequence (the addresses never meet).

    r@x.io, chaos trial stop24e 9 (above): our opt-out never landed on a contact from before
    the sync, the Lead re-subscribed, then the person opted out in Autopilot; the opt-out wins.

    h@x.io, chaos trial stop25d 5: our opt-out created the contact, and no platform read
    committed before the Lead re-subscribed. That read shows our opt-out, older than the
    re-subscribe, so the re-subscribe wins. It was read as a new opt-out, and the Lead's
    re-subscribe was reverted everywhere.

    p@x.io, chaos trial stop25e 3: as h, and the Lead's name changed too. The profile upsert
    went out at once and moved the contact's modstamp past the re-subscribe, so the contact's
    first read showed our opt-out as a newer one, and the re-subscribe was reverted everywhere.
    The profile now waits in the ledger and goes out with the re-subscribe.

    n@x.io: the run that decided its opt-out died before the contact existed, so no read can
    ever show the held contact (the profile hold alone left it uncreated). Once a read has
    finished without it, the profile creates it, born subscribed."""
    h_lead, p_lead = systems.add(
        "Lead", {"LastName": "H", "Company": "C", "Email": "h@x.io", "HasOptedOutOfEmail": True},
        {"LastName": "P", "FirstName": "Old", "Company": "C", "Email": "p@x.io",
         "HasOptedOutOfEmail": True})
    meltano.run("salesforce-to-autopilot")  # creates h's and p's contacts opted out; no read
    assert systems.ap()["h@x.io"]["unsubscribed"] is True
    r_lead, n_lead = systems.add(
        "Lead", {"LastName": "R", "Company": "C", "Email": "r@x.io", "HasOptedOutOfEmail": True},
        {"LastName": "N", "FirstName": "Old", "Company": "C", "Email": "n@x.io",
         "HasOptedOutOfEmail": True})
    systems.ap_add({"Email": "r@x.io", "unsubscribed": False})  # before the sync
    # the mapper decides and commits; the target's first call is refused (a wrong key: 401), so
    # r's and n's opt-outs never reach Autopilot, and no run reads Autopilot
    meltano.extra_env["TARGET_AUTOPILOT_API_KEY"] = "not-the-key"
    assert meltano.run("salesforce-to-autopilot", check=False).returncode != 0
    del meltano.extra_env["TARGET_AUTOPILOT_API_KEY"]
    assert "n@x.io" not in systems.ap() and systems.ap()["r@x.io"]["unsubscribed"] is False
    time.sleep(1)  # the re-subscribes come after our writes landed, by the systems' clocks
    systems.edit("Lead", h_lead, HasOptedOutOfEmail=False)
    systems.edit("Lead", r_lead, HasOptedOutOfEmail=False)
    for lead in (p_lead, n_lead):
        systems.edit("Lead", lead, HasOptedOutOfEmail=False, FirstName="New")
    systems.ap_edit("r@x.io", unsubscribed=True)  # later, the person opts out in Autopilot
    meltano.run("salesforce-to-autopilot")
    for email in ("r@x.io", "h@x.io"):
        assert "re-subscribe not sent" in systems.history(email), email
        assert systems.ap()[email]["unsubscribed"] is True, email  # held: no read showed it
    assert "profile held back" in systems.history("p@x.io")
    assert systems.ap()["p@x.io"]["FirstName"] == "Old"  # nothing sent to the held contact
    assert "n@x.io" not in systems.ap()  # held: no read has finished since our opt-out

    meltano.run("consent-sync")  # still held toward Autopilot; then the read
    assert systems.crm("r@x.io") == {f"Lead {r_lead}": True}  # r's opt-out is the newer act
    for email, lead in (("h@x.io", h_lead), ("p@x.io", p_lead)):  # ours is older: it loses
        assert systems.crm(email) == {f"Lead {lead}": False}, email
        assert "older than the re-subscribe" in systems.history(email), email
    assert "n@x.io" not in systems.ap()  # and n's contact is not there
    meltano.run("consent-sync")  # the re-subscribes go out, with p's profile; n's creates it
    assert systems.ap()["r@x.io"]["unsubscribed"] is True
    assert systems.crm("r@x.io") == {f"Lead {r_lead}": True}
    assert systems.ap()["h@x.io"]["unsubscribed"] is False
    assert systems.crm("h@x.io") == {f"Lead {h_lead}": False}
    for email, lead in (("p@x.io", p_lead), ("n@x.io", n_lead)):
        contact = systems.ap()[email]
        assert (contact["unsubscribed"], contact["FirstName"]) == (False, "New"), email
        assert systems.crm(email) == {f"Lead {lead}": False}
    assert "never created it" in systems.history("n@x.io")
    systems.reset_counters()
    meltano.run("consent-sync")
    assert systems.writes() == {"salesforce": 0, "platform": 0}
