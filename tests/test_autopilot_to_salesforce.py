"""Autopilot to Salesforce through real `meltano run autopilot-to-salesforce` on the sandbox."""

from __future__ import annotations

JOB = "autopilot-to-salesforce"


def seed_salesforce(sandbox) -> None:
    """One address on duplicate Leads in other letter case, a Contact, and a Person Account."""
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Dup1", "Company": "C", "Email": "dana@x.io"},
        {"LastName": "Dup2", "Company": "C", "Email": "DANA@X.IO"},
        {"LastName": "Other", "Company": "C", "Email": "other@x.io"},
    ])
    sandbox.admin("salesforce", "POST", "/records/Contact", json=[
        {"LastName": "DanaC", "Email": "Dana@x.io"}])
    sandbox.admin("salesforce", "POST", "/records/Account", json=[
        {"LastName": "Person", "PersonEmail": "pat@x.io"}])


def seed_autopilot(sandbox, rows: list[dict]) -> None:
    sandbox.admin("autopilot", "POST", "/contacts", json=rows)


def opt_outs(sandbox) -> dict[str, bool]:
    """Opt-out of every live record, keyed by object and id."""
    state = {}
    for obj, email_field, flag in (("Lead", "Email", "HasOptedOutOfEmail"),
                                   ("Contact", "Email", "HasOptedOutOfEmail"),
                                   ("Account", "PersonEmail", "PersonHasOptedOutOfEmail")):
        for row in sandbox.admin("salesforce", "GET", f"/records/{obj}").json():
            if obj == "Contact" and row.get("IsPersonAccount"):
                continue  # a Person Account's mirror: its state is the Account's
            if row.get(email_field) and not row.get("IsDeleted"):
                state[(obj, row[email_field].lower(), row["Id"])] = bool(row.get(flag))
    return state


def states_for(sandbox, email: str) -> list[bool]:
    return [v for (_, e, _), v in opt_outs(sandbox).items() if e == email]


def test_unsubscribe_reaches_every_record_of_the_address(sandbox, meltano):
    seed_salesforce(sandbox)
    seed_autopilot(sandbox, [{"Email": "dana@x.io", "unsubscribed": True},
                             {"Email": "other@x.io", "unsubscribed": False}])
    meltano.run(JOB)
    assert states_for(sandbox, "dana@x.io") == [True, True, True]
    assert states_for(sandbox, "other@x.io") == [False]


def test_hard_bounce_opts_out_and_resubscribe_opts_back_in(sandbox, meltano):
    seed_salesforce(sandbox)
    seed_autopilot(sandbox, [{"Email": "pat@x.io", "unsubscribed": False}])
    meltano.run(JOB)
    sandbox.admin("autopilot", "POST", "/contacts/pat@x.io/hardbounce")
    meltano.run(JOB)
    assert states_for(sandbox, "pat@x.io") == [True]

    seed_autopilot(sandbox, [{"Email": "dana@x.io", "unsubscribed": True}])
    meltano.run(JOB)
    assert states_for(sandbox, "dana@x.io") == [True, True, True]
    # a deliberate re-subscribe travels back to every record of the address (R2)
    sandbox.admin("autopilot", "POST", "/contacts/dana@x.io", json={"unsubscribed": False})
    meltano.run(JOB)
    assert states_for(sandbox, "dana@x.io") == [False, False, False]
    sandbox.admin("autopilot", "POST", "/contacts/dana@x.io", json={"unsubscribed": False})
    meltano.run(JOB)
    assert states_for(sandbox, "dana@x.io") == [False, False, False]


def test_second_run_without_change_writes_nothing(sandbox, meltano):
    seed_salesforce(sandbox)
    seed_autopilot(sandbox, [{"Email": "dana@x.io", "unsubscribed": True}])
    meltano.run(JOB)
    sandbox.admin("salesforce", "DELETE", "/calls")
    meltano.run(JOB)
    assert sandbox.calls("salesforce")["writes"] == 0


def test_rejected_record_is_reported_with_id_and_reason(sandbox, meltano):
    seed_salesforce(sandbox)
    seed_autopilot(sandbox, [{"Email": "dana@x.io", "unsubscribed": True}])
    # a validation rule of the org refuses one record: final, not retriable
    sandbox.admin("salesforce", "POST", "/faults", json={
        "per_record": True, "error_code": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "message": "Opt-out changes need a reason", "count": 1})
    result = meltano.run(JOB, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    refused = [(obj, rid) for (obj, email, rid), out in opt_outs(sandbox).items()
               if email == "dana@x.io" and not out]
    assert len(refused) == 1  # the others were written all the same
    assert refused[0][1] in output and "Opt-out changes need a reason" in output


def test_lock_errors_and_expired_sessions_are_survived(sandbox, meltano):
    seed_salesforce(sandbox)
    seed_autopilot(sandbox, [{"Email": "dana@x.io", "unsubscribed": True}])
    sandbox.admin("salesforce", "POST", "/faults", json={
        "per_record": True, "error_code": "UNABLE_TO_LOCK_ROW",
        "message": "unable to obtain exclusive access to this record", "count": 2})
    sandbox.admin("salesforce", "POST", "/expire-sessions")
    meltano.run(JOB)
    assert states_for(sandbox, "dana@x.io") == [True, True, True]


def test_hidden_opt_out_field_stops_with_the_fix(sandbox, meltano):
    seed_salesforce(sandbox)
    seed_autopilot(sandbox, [{"Email": "dana@x.io", "unsubscribed": True}])
    sandbox.admin("salesforce", "POST", "/fls",
                  json={"object": "Lead", "field": "HasOptedOutOfEmail", "access": "hidden"})
    result = meltano.run(JOB, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "HasOptedOutOfEmail" in output and "Field Accessibility" in output
