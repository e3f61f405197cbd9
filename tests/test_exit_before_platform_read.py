"""Under `on_exit=remove`, a contact the sync never read is removed only once a read of the
platform has seen its consent (R8: deletion forgets the record, never the opt-out).

Found by the property test at 5,000 examples and chaos trial stop21j 4: the first run to commit
read Salesforce before any run had read Autopilot; the Lead then left the selection, and the
next run deleted the Autopilot contact, unread, with the only opt-out of the address.
"""

from __future__ import annotations

import json


def test_a_contact_never_read_keeps_its_opt_out_through_the_exit(systems, meltano):
    meltano.extra_env["CONSENT_MAPPER_ON_EXIT"] = "remove"
    meltano.extra_env["TAP_SALESFORCE_OPTOUT_SELECTION"] = json.dumps({
        "Lead": [{"field": "Status", "operator": "equals", "value": "Open"}]})
    (lead,) = systems.add("Lead", {"LastName": "U", "Company": "C", "Email": "unread@x.io",
                                   "Status": "Open"})
    systems.ap_add({"Email": "Unread@X.io", "unsubscribed": True})  # before the sync
    meltano.run("salesforce-to-autopilot")  # no run has read Autopilot yet
    assert systems.ap()["unread@x.io"]["unsubscribed"] is True

    systems.edit("Lead", lead, Status="Closed")  # out of the selection
    meltano.run("salesforce-to-autopilot")
    assert systems.ap()["unread@x.io"]["unsubscribed"] is True  # kept: never read
    assert "removal waits" in systems.history("unread@x.io")

    meltano.run("consent-sync")  # the read finds the opt-out: the Lead gets it (R5)
    assert systems.crm("unread@x.io") == {f"Lead {lead}": True}
    meltano.run("consent-sync")  # the next run removes the contact (on_exit=remove)
    assert "unread@x.io" not in systems.ap()
    assert "waiting removal done" in systems.history("unread@x.io")
    assert systems.crm("unread@x.io") == {f"Lead {lead}": True}

    systems.reset_counters()
    meltano.run("consent-sync")
    assert systems.writes() == {"salesforce": 0, "platform": 0}
