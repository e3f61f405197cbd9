"""A write owed to a contact survives our own profile upsert sent before it lands, and ends (R7).

Found by the chaos suite: the write of a re-subscribe failed; the next run sent the contact's
profile again without the owed `unsubscribed: false`, which moved its `updated_at` over the old
opt-out, and the Autopilot read after it took that opt-out for the person's own.
"""

from __future__ import annotations


def test_owed_writes_survive_a_failed_run_and_end(systems, meltano):
    """z@x.io: the profile resent before the owed re-subscribe landed carries it (above).

    y@x.io (chaos suite): a re-subscribe cancelling an opt-out that never landed reaches a
    contact that was subscribed all along, so nothing changes there and no read ever sees it
    back: it was sent on every run. One sandbox, one run sequence (the addresses never meet)."""
    z_lead, y_lead = systems.add(
        "Lead", {"LastName": "Z", "Company": "C", "Email": "z@x.io", "HasOptedOutOfEmail": True},
        {"LastName": "Y", "Company": "C", "Email": "y@x.io"})
    meltano.run("consent-sync")
    meltano.run("consent-sync")  # reads back what the first run wrote: agreed everywhere
    assert systems.ap()["z@x.io"]["unsubscribed"] is True
    # z re-subscribes on the Lead and a profile field changes with it; y opts out
    systems.edit("Lead", z_lead, HasOptedOutOfEmail=False, FirstName="Zoe")
    systems.edit("Lead", y_lead, HasOptedOutOfEmail=True)
    # the mapper decides and commits; the target's first call is refused (a wrong key: 401), so
    # neither write reaches Autopilot in this run
    meltano.extra_env["TARGET_AUTOPILOT_API_KEY"] = "not-the-key"
    assert meltano.run("salesforce-to-autopilot", check=False).returncode != 0
    del meltano.extra_env["TARGET_AUTOPILOT_API_KEY"]
    assert systems.ap()["z@x.io"]["unsubscribed"] is True
    systems.edit("Lead", y_lead, HasOptedOutOfEmail=False)  # y takes it back
    meltano.run("consent-sync")  # z's profile again, then the Autopilot read
    meltano.run("consent-sync")
    assert systems.ap()["z@x.io"]["unsubscribed"] is False
    assert set(systems.crm("z@x.io").values()) == {False}
    systems.reset_counters()
    meltano.run("consent-sync")
    assert systems.writes() == {"salesforce": 0, "platform": 0}
    assert systems.ap()["y@x.io"]["unsubscribed"] is False
    assert "the write changed nothing there" in systems.history("y@x.io")
