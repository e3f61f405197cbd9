"""A contact's deletion under `on_exit=remove` is sent again when the run that sent it did not
write it (R7, R8).

Found by the chaos suite: a Lead was deleted; the run decided to remove the person's Autopilot
contact and committed, then the target's call failed. The ledger had already forgotten the
contact, so the next run (reading the same deleted Lead again, as the tap's bookmark had not
moved) did nothing, and the contact stayed for good.
"""

from __future__ import annotations


def _exit_decided_but_not_written(meltano) -> None:
    """The mapper decides and commits; the target's first call is refused (a wrong key: 401)."""
    meltano.extra_env["TARGET_AUTOPILOT_API_KEY"] = "not-the-key"
    assert meltano.run("salesforce-to-autopilot", check=False).returncode != 0
    del meltano.extra_env["TARGET_AUTOPILOT_API_KEY"]


def test_a_deletion_the_target_did_not_write_is_sent_again(systems, meltano):
    (lead,) = systems.add("Lead", {"LastName": "G", "Company": "C", "Email": "gone@x.io"})
    systems.add("Lead", {"LastName": "S", "Company": "C", "Email": "stays@x.io"})
    meltano.extra_env["CONSENT_MAPPER_ON_EXIT"] = "remove"
    meltano.run("consent-sync")  # read back: removable (test_exit_before_platform_read.py)
    assert {"gone@x.io", "stays@x.io"} <= set(systems.ap())

    systems.delete("Lead", lead)
    _exit_decided_but_not_written(meltano)
    assert "gone@x.io" in systems.ap()

    meltano.run("salesforce-to-autopilot")
    assert "gone@x.io" not in systems.ap()
    assert "stays@x.io" in systems.ap()
    assert "deletion sent again" in systems.history("gone@x.io")
    systems.reset_counters()
    meltano.run("salesforce-to-autopilot")  # the bookmark moved: nothing is deleted again
    assert systems.writes()["platform"] == 0


def test_a_deletion_not_written_is_sent_again_beside_a_case_twin(systems, meltano):
    """Chaos trial stop20h 1: the deleted contact's case twin stayed live in the ledger, so the
    replayed exit named the twin as the person's contact and nothing was deleted again."""
    (lead,) = systems.add("Lead", {"LastName": "T", "Company": "C", "Email": "twin@x.io"})
    systems.ap_add({"Email": "twin@x.io", "unsubscribed": False})
    systems.ap_add({"Email": "TWIN@X.IO", "unsubscribed": True})
    meltano.extra_env["CONSENT_MAPPER_ON_EXIT"] = "remove"
    meltano.run("consent-sync")
    contacts = {c["Email"] for c in systems.sandbox.admin("autopilot", "GET", "/contacts").json()}
    assert contacts == {"twin@x.io", "TWIN@X.IO"}

    systems.delete("Lead", lead)
    _exit_decided_but_not_written(meltano)
    assert "twin@x.io" in systems.ap()

    meltano.run("salesforce-to-autopilot")
    assert "twin@x.io" not in systems.ap(), systems.history("twin@x.io")
    assert "deletion sent again" in systems.history("twin@x.io")
