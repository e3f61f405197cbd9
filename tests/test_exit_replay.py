"""A contact's deletion under `on_exit=remove` is sent again until a later run's input STATE
shows the run that sent it written (R7, R8).

Found by the chaos suite: a Lead was deleted; the run decided to remove the person's Autopilot
contact and committed, then the target's call failed. The ledger had already forgotten the
contact, so the next run (reading the same deleted Lead again, as the tap's bookmark had not
moved) did nothing, and the contact stayed for good.
"""

from __future__ import annotations

import json


def _exit_decided_but_not_written(meltano) -> None:
    """The mapper decides and commits; the target's first call is refused (a wrong key: 401)."""
    meltano.extra_env["TARGET_AUTOPILOT_API_KEY"] = "not-the-key"
    assert meltano.run("salesforce-to-autopilot", check=False).returncode != 0
    del meltano.extra_env["TARGET_AUTOPILOT_API_KEY"]


def test_a_waiting_removal_keeps_an_unsubscribe_made_meanwhile_and_is_sent_until_written(
        systems, meltano):
    """Chaos seed stop26o 1: race@x.io unsubscribed in Autopilot in the interval in which its
    Lead left the selection; consent-sync, syncing toward Autopilot first, deleted the contact
    with the unsubscribe, and the Lead stayed subscribed. The removal now waits for the next
    read of Autopilot (R8), so the run that decides it has no exit in its input: only its
    STATE, not stored, tells the next run that its deletions were not written (R7)."""
    meltano.extra_env["CONSENT_MAPPER_ON_EXIT"] = "remove"
    meltano.extra_env["TAP_SALESFORCE_OPTOUT_SELECTION"] = json.dumps({
        "Lead": [{"field": "Status", "operator": "equals", "value": "Open"}]})
    gone, race, _ = systems.add("Lead", *({"LastName": n, "Company": "C", "Status": "Open",
                                           "Email": f"{n}@x.io"} for n in ("gone", "race",
                                                                           "stays")))
    meltano.run("consent-sync")  # read back: removable (test_exit_before_platform_read.py)
    assert {"gone@x.io", "race@x.io", "stays@x.io"} <= set(systems.ap())

    systems.delete("Lead", gone)
    systems.edit("Lead", race, Status="Closed")
    systems.ap_edit("race@x.io", unsubscribed=True)
    meltano.run("salesforce-to-autopilot")
    assert {"gone@x.io", "race@x.io"} <= set(systems.ap())
    assert "removal waits for the next read of autopilot" in systems.history("race@x.io")
    meltano.run("autopilot-to-salesforce")  # the unsubscribe reaches the Lead it left (R5)
    assert systems.crm("race@x.io") == {f"Lead {race}": True}
    _exit_decided_but_not_written(meltano)
    assert {"gone@x.io", "race@x.io"} <= set(systems.ap())

    meltano.run("salesforce-to-autopilot")
    assert set(systems.ap()) & {"gone@x.io", "race@x.io", "stays@x.io"} == {"stays@x.io"}
    for email in ("gone@x.io", "race@x.io"):
        assert "is not known written" in systems.history(email)
    assert "agreed opted out" in systems.history("race@x.io")
    systems.reset_counters()
    meltano.run("salesforce-to-autopilot")  # its STATE came back: nothing is deleted again
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
