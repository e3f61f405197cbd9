"""A re-subscribe owed to a contact survives our own profile upsert sent before it lands (R7).

Found by the chaos suite: the write of a re-subscribe failed; the next run sent the contact's
profile again without the owed `unsubscribed: false`, which moved its `updated_at` over the old
opt-out, and the Autopilot read after it took that opt-out for the person's own.
"""

from __future__ import annotations


def test_a_profile_resent_before_an_owed_resubscribe_lands_carries_it(systems, meltano):
    (lead,) = systems.add("Lead", {"LastName": "Z", "Company": "C", "Email": "z@x.io",
                                   "HasOptedOutOfEmail": True})
    meltano.run("consent-sync")
    meltano.run("consent-sync")  # reads back what the first run wrote: agreed out everywhere
    assert systems.ap()["z@x.io"]["unsubscribed"] is True
    # the person re-subscribes on the Lead and a profile field changes with it
    systems.edit("Lead", lead, HasOptedOutOfEmail=False, FirstName="Zoe")
    # the mapper decides and commits; the target's first call is refused (a wrong key: 401), so
    # the owed re-subscribe never reaches Autopilot in this run
    meltano.extra_env["TARGET_AUTOPILOT_API_KEY"] = "not-the-key"
    assert meltano.run("salesforce-to-autopilot", check=False).returncode != 0
    del meltano.extra_env["TARGET_AUTOPILOT_API_KEY"]
    assert systems.ap()["z@x.io"]["unsubscribed"] is True
    meltano.run("consent-sync")  # the profile again, then the Autopilot read
    meltano.run("consent-sync")
    assert systems.ap()["z@x.io"]["unsubscribed"] is False
    assert set(systems.crm("z@x.io").values()) == {False}


def test_a_re_subscribe_cancelling_an_opt_out_that_never_landed_ends(systems, meltano):
    # chaos suite finding: the re-subscribe reaches a contact that was subscribed all along, so
    # nothing changes there and no read ever sees it back: it was sent on every run
    (lead,) = systems.add("Lead", {"LastName": "Y", "Company": "C", "Email": "y@x.io"})
    meltano.run("consent-sync")
    meltano.run("consent-sync")
    systems.edit("Lead", lead, HasOptedOutOfEmail=True)
    meltano.extra_env["TARGET_AUTOPILOT_API_KEY"] = "not-the-key"
    assert meltano.run("salesforce-to-autopilot", check=False).returncode != 0
    del meltano.extra_env["TARGET_AUTOPILOT_API_KEY"]
    systems.edit("Lead", lead, HasOptedOutOfEmail=False)
    meltano.run("consent-sync")
    meltano.run("consent-sync")
    systems.reset_counters()
    meltano.run("consent-sync")
    assert systems.writes() == {"salesforce": 0, "platform": 0}
    assert systems.ap()["y@x.io"]["unsubscribed"] is False
    assert "the write changed nothing there" in systems.history("y@x.io")
