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


def test_a_re_subscribe_waits_for_a_read_of_a_contact_never_read(systems, meltano):
    (lead,) = systems.add("Lead", {"LastName": "R", "Company": "C", "Email": "r@x.io",
                                   "HasOptedOutOfEmail": True})
    systems.ap_add({"Email": "r@x.io", "unsubscribed": False})  # before the sync
    # the mapper decides and commits; the target's first call is refused (a wrong key: 401), so
    # the opt-out never reaches Autopilot, and no run reads Autopilot
    meltano.extra_env["TARGET_AUTOPILOT_API_KEY"] = "not-the-key"
    assert meltano.run("salesforce-to-autopilot", check=False).returncode != 0
    del meltano.extra_env["TARGET_AUTOPILOT_API_KEY"]
    assert systems.ap()["r@x.io"]["unsubscribed"] is False

    systems.edit("Lead", lead, HasOptedOutOfEmail=False)  # re-subscribed in Salesforce
    systems.ap_edit("r@x.io", unsubscribed=True)  # later, the person opts out in Autopilot
    meltano.run("salesforce-to-autopilot")
    assert systems.ap()["r@x.io"]["unsubscribed"] is True  # not re-subscribed blind
    assert "re-subscribe not sent" in systems.history("r@x.io")

    meltano.run("consent-sync")  # the read finds the opt-out: it is the newer act, and wins
    assert systems.crm("r@x.io") == {f"Lead {lead}": True}
    assert systems.ap()["r@x.io"]["unsubscribed"] is True
    meltano.run("consent-sync")
    systems.reset_counters()
    meltano.run("consent-sync")
    assert systems.writes() == {"salesforce": 0, "platform": 0}


def test_a_held_re_subscribe_wins_over_our_own_opt_out_read_there_first(systems, meltano):
    """Chaos trial stop25d 5: our opt-out created the contact, and no platform read committed
    before the Lead re-subscribed. The held re-subscribe waits for the contact's first read;
    that read shows our opt-out, older than the re-subscribe, so the re-subscribe wins. It was
    read as a new opt-out, and the Lead's re-subscribe was reverted everywhere."""
    (lead,) = systems.add("Lead", {"LastName": "H", "Company": "C", "Email": "h@x.io",
                                   "HasOptedOutOfEmail": True})
    meltano.run("salesforce-to-autopilot")  # creates the contact opted out; nothing reads it
    assert systems.ap()["h@x.io"]["unsubscribed"] is True
    time.sleep(1)  # the re-subscribe comes after our write landed, by the systems' clocks
    systems.edit("Lead", lead, HasOptedOutOfEmail=False)
    meltano.run("salesforce-to-autopilot")
    assert "re-subscribe not sent" in systems.history("h@x.io")
    assert systems.ap()["h@x.io"]["unsubscribed"] is True  # held: no read has shown it

    meltano.run("consent-sync")  # the read shows our opt-out, older than the re-subscribe
    assert systems.crm("h@x.io") == {f"Lead {lead}": False}
    assert "older than the re-subscribe" in systems.history("h@x.io")
    meltano.run("consent-sync")  # and the re-subscribe is sent
    assert systems.ap()["h@x.io"]["unsubscribed"] is False
    assert systems.crm("h@x.io") == {f"Lead {lead}": False}
    systems.reset_counters()
    meltano.run("consent-sync")
    assert systems.writes() == {"salesforce": 0, "platform": 0}



def test_a_held_contact_gets_its_profile_with_the_re_subscribe_or_once_a_read_shows_it_absent(
        systems, meltano):
    """Two held re-subscribes, one sandbox (the addresses never meet).

    p@x.io, chaos trial stop25e 3: the Lead re-subscribed and its name changed while the
    contact's re-subscribe was held. The profile upsert went out at once and moved the contact's
    modstamp past the re-subscribe, so the contact's first read showed our opt-out as a newer
    one, and the re-subscribe was reverted everywhere. The profile now waits in the ledger and
    goes out with the re-subscribe.

    n@x.io: the run that decided its opt-out died before the contact existed, so no read can
    ever show the held contact (the profile hold alone left it uncreated). Once a read has
    finished without it, the profile creates it, born subscribed."""
    (p_lead,) = systems.add("Lead", {"LastName": "P", "FirstName": "Old", "Company": "C",
                                     "Email": "p@x.io", "HasOptedOutOfEmail": True})
    meltano.run("salesforce-to-autopilot")  # creates p's contact opted out; nothing reads it
    (n_lead,) = systems.add("Lead", {"LastName": "N", "FirstName": "Old", "Company": "C",
                                     "Email": "n@x.io", "HasOptedOutOfEmail": True})
    meltano.extra_env["TARGET_AUTOPILOT_API_KEY"] = "not-the-key"  # n's opt-out never lands
    assert meltano.run("salesforce-to-autopilot", check=False).returncode != 0
    del meltano.extra_env["TARGET_AUTOPILOT_API_KEY"]
    assert "n@x.io" not in systems.ap()
    time.sleep(1)  # the re-subscribes come after our write landed, by the systems' clocks
    for lead in (p_lead, n_lead):
        systems.edit("Lead", lead, HasOptedOutOfEmail=False, FirstName="New")
    meltano.run("salesforce-to-autopilot")
    assert "profile held back" in systems.history("p@x.io")
    assert systems.ap()["p@x.io"]["FirstName"] == "Old"  # nothing sent to the held contact
    assert "n@x.io" not in systems.ap()  # held: no read has finished since our opt-out

    meltano.run("consent-sync")  # still held toward Autopilot; then the read: p's opt-out is
    assert systems.crm("p@x.io") == {f"Lead {p_lead}": False}  # older than the re-subscribe
    assert "n@x.io" not in systems.ap()  # and n's contact is not there
    meltano.run("consent-sync")  # p's re-subscribe goes out with its profile; n's creates it
    for email, lead in (("p@x.io", p_lead), ("n@x.io", n_lead)):
        contact = systems.ap()[email]
        assert (contact["unsubscribed"], contact["FirstName"]) == (False, "New"), email
        assert systems.crm(email) == {f"Lead {lead}": False}
    assert "never created it" in systems.history("n@x.io")
    systems.reset_counters()
    meltano.run("consent-sync")
    assert systems.writes() == {"salesforce": 0, "platform": 0}
