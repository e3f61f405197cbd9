"""The scenarios of CONSENT-RULES, each through real `meltano run consent-sync` on the sandbox.

Every test starts from an empty sandbox and an empty ledger, edits the systems through their
APIs (the sandbox admin surface, as a user in either UI would) and runs the two-way job.
"""

from __future__ import annotations

JOB = "consent-sync"


def test_1_lead_in_and_contact_out_end_both_out(systems, meltano):
    systems.add("Lead", {"LastName": "A", "Company": "C", "Email": "a@x.io"})
    systems.ap_add({"Email": "a@x.io", "unsubscribed": True})
    meltano.run(JOB)
    assert set(systems.crm("a@x.io").values()) == {True}
    assert systems.ap()["a@x.io"]["unsubscribed"] is True
    assert "R1" in systems.history("a@x.io")


def test_2_lead_out_and_contact_in_end_both_out(systems, meltano):
    systems.add("Lead", {"LastName": "B", "Company": "C", "Email": "b@x.io",
                         "HasOptedOutOfEmail": True})
    systems.ap_add({"Email": "b@x.io", "unsubscribed": False})
    meltano.run(JOB)
    assert set(systems.crm("b@x.io").values()) == {True}
    assert systems.ap()["b@x.io"]["unsubscribed"] is True
    assert "R1: unknown -> opted out" in systems.history("b@x.io")


def test_3_a_resubscribe_in_autopilot_reaches_the_lead(systems, meltano):
    systems.add("Lead", {"LastName": "C", "Company": "C", "Email": "r@x.io",
                         "HasOptedOutOfEmail": True})
    meltano.run(JOB)
    assert systems.ap()["r@x.io"]["unsubscribed"] is True
    systems.ap_edit("r@x.io", unsubscribed=False)
    meltano.run(JOB)
    assert set(systems.crm("r@x.io").values()) == {False}
    assert "R2: opted out -> opted in" in systems.history("r@x.io")


def test_4_an_opt_out_on_a_contact_reaches_autopilot_and_the_duplicate_lead(systems, meltano):
    systems.add("Lead", {"LastName": "L", "Company": "C", "Email": "c@x.io"})
    (contact,) = systems.add("Contact", {"LastName": "K", "Email": "C@x.io"})
    meltano.run(JOB)
    assert set(systems.crm("c@x.io").values()) == {False}
    systems.edit("Contact", contact, HasOptedOutOfEmail=True)
    meltano.run(JOB)
    assert systems.ap()["c@x.io"]["unsubscribed"] is True
    assert set(systems.crm("c@x.io").values()) == {True}
    assert "R2: opted in -> opted out" in systems.history("c@x.io")


def test_5_a_new_unchecked_lead_of_an_opted_out_address_is_born_opted_out(systems, meltano):
    systems.add("Lead", {"LastName": "D", "Company": "C", "Email": "d@x.io",
                         "HasOptedOutOfEmail": True})
    meltano.run(JOB)
    (new,) = systems.add("Lead", {"LastName": "D2", "Company": "Web form", "Email": "D@X.io"})
    meltano.run(JOB)
    assert systems.crm("d@x.io")[f"Lead {new}"] is True
    assert systems.ap()["d@x.io"]["unsubscribed"] is True


def test_6_a_hard_bounce_opts_the_lead_out(systems, meltano):
    systems.add("Lead", {"LastName": "H", "Company": "C", "Email": "h@x.io"})
    meltano.run(JOB)
    systems.sandbox.admin("autopilot", "POST", "/contacts/h@x.io/hardbounce")
    meltano.run(JOB)
    assert set(systems.crm("h@x.io").values()) == {True}


def test_7_a_lead_recreated_after_removal_is_born_opted_out_in_both(systems, meltano):
    (lead,) = systems.add("Lead", {"LastName": "E", "Company": "C", "Email": "e7@x.io",
                                   "HasOptedOutOfEmail": True})
    meltano.extra_env["CONSENT_MAPPER_ON_EXIT"] = "remove"
    meltano.run(JOB)
    systems.delete("Lead", lead)
    meltano.run(JOB)
    assert "e7@x.io" not in systems.ap()
    (again,) = systems.add("Lead", {"LastName": "E", "Company": "C", "Email": "e7@x.io"})
    meltano.run(JOB)
    assert systems.ap()["e7@x.io"]["unsubscribed"] is True
    assert systems.crm("e7@x.io") == {f"Lead {again}": True}


def test_8_a_person_account_is_one_contact_without_a_company(systems, meltano):
    systems.add("Account", {"FirstName": "Eve", "LastName": "Person", "PersonEmail": "e@x.io",
                            "PersonHasOptedOutOfEmail": True})
    meltano.run(JOB)
    contacts = systems.ap()
    assert list(contacts) == ["e@x.io"]  # one record for the address: no company duplicate
    assert contacts["e@x.io"]["unsubscribed"] is True
    assert not contacts["e@x.io"].get("Company")


def test_9_a_run_after_which_nobody_changed_anything_writes_nothing(systems, meltano):
    systems.add("Lead", {"LastName": "Q", "Company": "C", "Email": "q@x.io"},
                {"LastName": "Q2", "Company": "C", "Email": "q2@x.io",
                 "HasOptedOutOfEmail": True})
    systems.ap_add({"Email": "q3@x.io", "unsubscribed": False})
    meltano.run(JOB)
    meltano.run(JOB)  # reads back what the first run wrote
    systems.reset_counters()
    meltano.run(JOB)
    assert systems.writes() == {"salesforce": 0, "autopilot": 0}


def test_10_a_failing_crm_write_is_retried_until_it_lands(systems, meltano):
    systems.add("Lead", {"LastName": "F", "Company": "C", "Email": "f@x.io"})
    meltano.run(JOB)
    systems.ap_edit("f@x.io", unsubscribed=True)
    systems.sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 503, "count": 3, "method": "PATCH", "endpoint": "composite/sobjects"})
    meltano.extra_env["TARGET_SALESFORCE_MAX_RETRIES"] = "1"
    failed = meltano.run(JOB, check=False)  # two attempts, both refused: the run fails
    assert failed.returncode != 0
    assert set(systems.crm("f@x.io").values()) == {False}
    meltano.run(JOB)  # the third attempt is refused, the fourth lands
    assert set(systems.crm("f@x.io").values()) == {True}


def test_11_records_without_a_valid_address_are_skipped_and_reported(systems, meltano):
    systems.add("Lead", {"LastName": "NoMail", "Company": "C"},
                {"LastName": "Fine", "Company": "C", "Email": "fine@x.io"})
    systems.ap_add({"Email": "broken@@x.io", "unsubscribed": True})
    result = meltano.run(JOB)
    output = result.stdout + result.stderr
    assert "skipped no_email: 1" in output and "broken@@x.io" in output
    assert set(systems.ap()) == {"fine@x.io", "broken@@x.io"}


def test_dry_run_decides_everything_and_writes_nothing(systems, meltano):
    systems.add("Lead", {"LastName": "Y", "Company": "C", "Email": "y@x.io",
                         "HasOptedOutOfEmail": True})
    systems.reset_counters()
    meltano.extra_env["CONSENT_MAPPER_DRY_RUN"] = "true"
    result = meltano.run(JOB)
    assert systems.writes() == {"salesforce": 0, "autopilot": 0}
    assert "dry run: decision R1: person=y@x.io" in result.stderr
    assert "no decisions recorded" in systems.history("y@x.io")
    meltano.extra_env["CONSENT_MAPPER_DRY_RUN"] = "false"
    meltano.run(JOB)  # a dry run moved no bookmark: the real run still sees the Lead
    assert systems.ap()["y@x.io"]["unsubscribed"] is True
