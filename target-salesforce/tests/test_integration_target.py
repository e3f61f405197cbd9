"""target-salesforce through its CLI against the sandbox's Salesforce stand-in."""

from __future__ import annotations

import io

import pytest

from consent_sandbox.testing import RunningSandbox
from consentsync_salesforce import ClientRejected, SalesforceUnavailable
from target_salesforce.errors import RecordsRejectedError
from target_salesforce.target import TargetSalesforce

from .conftest import singer_messages, target_config

OPT_OUT_FIELD = {"Lead": "HasOptedOutOfEmail", "Contact": "HasOptedOutOfEmail",
                 "Account": "PersonHasOptedOutOfEmail"}
EMAIL_FIELD = {"Lead": "Email", "Contact": "Email", "Account": "PersonEmail"}


def seed(sandbox: RunningSandbox) -> None:
    """dana@x.io on two Leads (other letter case), a Contact and a Person Account."""
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Dup1", "Company": "C", "Email": "dana@x.io"},
        {"LastName": "Dup2", "Company": "C", "Email": "DANA@X.IO"},
        {"LastName": "Other", "Company": "C", "Email": "other@x.io"},
    ])
    sandbox.admin("salesforce", "POST", "/records/Contact", json=[
        {"LastName": "DanaC", "Email": "Dana@x.io"}])
    sandbox.admin("salesforce", "POST", "/records/Account", json=[
        {"LastName": "Person", "PersonEmail": "dana@X.io"}])


def rows(sandbox: RunningSandbox, sobject: str) -> list[dict]:
    return [r for r in sandbox.admin("salesforce", "GET", f"/records/{sobject}").json()
            if not r.get("IsDeleted")]


def opt_outs(sandbox: RunningSandbox, email: str) -> dict[tuple[str, str], bool]:
    """Opt-out of every record holding ``email`` (any case), keyed by object and id."""
    found = {}
    for sobject, field in EMAIL_FIELD.items():
        for row in rows(sandbox, sobject):
            if sobject == "Contact" and row.get("IsPersonAccount"):
                continue  # written through its Account
            if (row.get(field) or "").lower() == email:
                found[(sobject, row["Id"])] = bool(row.get(OPT_OUT_FIELD[sobject]))
    return found


def collection_calls(sandbox: RunningSandbox) -> int:
    return sum(r["count"] for r in sandbox.calls("salesforce")["calls"]
               if r["method"] == "PATCH" and "composite/sobjects" in r["endpoint"])


def opt_out_streams(email: str, value: bool) -> dict[str, list[dict]]:
    return {sobject: [{EMAIL_FIELD[sobject]: email, OPT_OUT_FIELD[sobject]: value}]
            for sobject in EMAIL_FIELD}


def test_opt_out_by_email_reaches_every_record_of_the_address(sandbox, run_target):
    seed(sandbox)
    result = run_target(sandbox, opt_out_streams("dana@x.io", True), state={"bookmarks": {"n": 7}})
    assert result.returncode == 0, result.stderr
    dana = opt_outs(sandbox, "dana@x.io")
    assert len(dana) == 4 and all(dana.values())  # two Leads, a Contact, a Person Account
    assert not any(opt_outs(sandbox, "other@x.io").values())
    assert result.states == [{"bookmarks": {"n": 7}}]


def test_resubscribe_by_email_and_update_by_id(sandbox, run_target):
    seed(sandbox)
    assert run_target(sandbox, opt_out_streams("dana@x.io", True)).returncode == 0
    result = run_target(sandbox, opt_out_streams("dana@x.io", False), grant="password")
    assert result.returncode == 0, result.stderr
    assert not any(opt_outs(sandbox, "dana@x.io").values())

    other = next(r for r in rows(sandbox, "Lead") if r["Email"] == "other@x.io")
    result = run_target(sandbox, {"Lead": [{"Id": other["Id"], "HasOptedOutOfEmail": True}]})
    assert result.returncode == 0, result.stderr
    assert opt_outs(sandbox, "other@x.io") == {("Lead", other["Id"]): True}


def test_unchanged_records_are_not_written_and_unmatched_ones_are_counted(sandbox, run_target):
    seed(sandbox)
    assert run_target(sandbox, opt_out_streams("dana@x.io", True)).returncode == 0
    sandbox.admin("salesforce", "DELETE", "/calls")
    streams = opt_out_streams("dana@x.io", True)
    streams["Lead"].append({"Email": "nobody@x.io", "HasOptedOutOfEmail": True})
    result = run_target(sandbox, streams)
    assert result.returncode == 0, result.stderr
    assert collection_calls(sandbox) == 0
    assert "1 Lead records matched no Lead by Email" in result.stderr


def test_rejected_record_is_reported_the_others_written_and_state_held(sandbox, run_target):
    seed(sandbox)
    sandbox.admin("salesforce", "POST", "/faults", json={
        "per_record": True, "error_code": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "message": "Opt-out changes need a reason", "count": 1})
    result = run_target(sandbox, {"Lead": [{"Email": "dana@x.io", "HasOptedOutOfEmail": True}]})
    assert result.returncode != 0
    leads = {rid: out for (sobject, rid), out in opt_outs(sandbox, "dana@x.io").items()
             if sobject == "Lead"}
    refused = [rid for rid, out in leads.items() if not out]
    assert len(leads) == 2 and len(refused) == 1
    assert refused[0] in result.stderr
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in result.stderr
    assert "Opt-out changes need a reason" in result.stderr
    assert "could not be written to Salesforce" in result.stderr
    assert result.states == []  # the next run sends the batch again


def test_lock_errors_server_errors_and_expired_sessions_are_survived(sandbox, run_target):
    seed(sandbox)
    sandbox.admin("salesforce", "POST", "/faults", json={
        "per_record": True, "error_code": "UNABLE_TO_LOCK_ROW",
        "message": "unable to obtain exclusive access to this record", "count": 2})
    sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 401, "error_code": "INVALID_SESSION_ID", "message": "Session expired or invalid",
        "endpoint": "composite/sobjects", "count": 1})
    sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 500, "error_code": "UNKNOWN_EXCEPTION", "message": "boom",
        "endpoint": "query", "count": 1})
    result = run_target(sandbox, opt_out_streams("dana@x.io", True))
    assert result.returncode == 0, result.stderr
    assert all(opt_outs(sandbox, "dana@x.io").values())
    tokens = sum(r["count"] for r in sandbox.calls("salesforce")["calls"]
                 if "oauth2/token" in r["endpoint"])
    assert tokens == 2  # signed in once, renewed once


def test_sessions_expired_by_salesforce_are_renewed(sandbox, run_target):
    seed(sandbox)
    assert run_target(sandbox, opt_out_streams("dana@x.io", False)).returncode == 0
    sandbox.admin("salesforce", "POST", "/expire-sessions")
    result = run_target(sandbox, opt_out_streams("dana@x.io", True))
    assert result.returncode == 0, result.stderr
    assert all(opt_outs(sandbox, "dana@x.io").values())


def test_refused_credentials_say_to_renew_the_connection(sandbox, run_target):
    seed(sandbox)
    result = run_target(sandbox, opt_out_streams("dana@x.io", True), refresh_token="revoked-token")
    assert result.returncode != 0
    assert "Renew the Salesforce connection" in result.stderr
    assert result.states == []


def test_hidden_opt_out_field_stops_with_the_fix(sandbox, run_target):
    seed(sandbox)
    sandbox.admin("salesforce", "POST", "/fls",
                  json={"object": "Lead", "field": "HasOptedOutOfEmail", "access": "hidden"})
    result = run_target(sandbox, opt_out_streams("dana@x.io", True))
    assert result.returncode != 0
    assert "Lead.HasOptedOutOfEmail" in result.stderr
    assert "Field Accessibility" in result.stderr
    assert collection_calls(sandbox) == 0 and result.states == []


def test_unknown_sobject_is_named(sandbox, run_target):
    result = run_target(sandbox, {"Leads": [{"Email": "dana@x.io", "HasOptedOutOfEmail": True}]})
    assert result.returncode != 0
    assert "no sObject named 'Leads'" in result.stderr


def test_read_only_field_says_to_grant_edit_access(sandbox, run_target):
    seed(sandbox)
    sandbox.admin("salesforce", "POST", "/fls", json={
        "object": "Contact", "field": "HasOptedOutOfEmail", "access": "read_only"})
    result = run_target(sandbox, {"Contact": [{"Email": "dana@x.io", "HasOptedOutOfEmail": True}]})
    assert result.returncode != 0
    assert "Contact.HasOptedOutOfEmail is read-only" in result.stderr
    assert "Grant edit access" in result.stderr and collection_calls(sandbox) == 0


def test_converted_leads_are_left_to_their_contact(sandbox, run_target):
    seed(sandbox)
    dup1 = next(r for r in rows(sandbox, "Lead") if r["LastName"] == "Dup1")
    converted = sandbox.admin("salesforce", "POST", "/convert-lead",
                              json={"lead_id": dup1["Id"]}).json()
    result = run_target(sandbox, opt_out_streams("dana@x.io", True))
    assert result.returncode == 0, result.stderr
    leads = {r["Id"]: r["HasOptedOutOfEmail"] for r in rows(sandbox, "Lead")
             if r["Email"].lower() == "dana@x.io"}
    assert leads == {dup1["Id"]: False, **{i: True for i in leads if i != dup1["Id"]}}
    contacts = {r["Id"]: r["HasOptedOutOfEmail"] for r in rows(sandbox, "Contact")}
    assert contacts[converted["contact_id"]] is True


def test_api_usage_guard_stops_before_the_ceiling_without_moving_state(sandbox, run_target):
    seed(sandbox)
    # 4 calls left below 90% of the 100,000 allowance; the run needs more
    sandbox.admin("salesforce", "POST", "/usage", json={"used": 89_996})
    result = run_target(sandbox, opt_out_streams("dana@x.io", True))
    assert result.returncode != 0
    assert "Stopped before exceeding max_api_usage_percent=90" in result.stderr
    assert "API usage 90000/100000 (90.0%)" in result.stderr or "used 90000 of" in result.stderr
    assert sandbox.admin("salesforce", "GET", "/usage").json()["used"] == 90_000
    assert result.states == []  # so the same records come again

    sandbox.admin("salesforce", "POST", "/usage", json={"used": 1000})
    result = run_target(sandbox, opt_out_streams("dana@x.io", True))
    assert result.returncode == 0, result.stderr
    assert all(opt_outs(sandbox, "dana@x.io").values()) and result.states


def run_in_process(sandbox: RunningSandbox, streams: dict[str, list[dict]], **overrides: object
                   ) -> None:
    """The target in this process (no interpreter start-up): faster for many small runs."""
    config = target_config(sandbox, **overrides)
    target = TargetSalesforce(config=config, parse_env_config=False, validate_config=True)
    target.listen(io.StringIO(singer_messages(streams, {"bookmarks": {"run": 1}})))


@pytest.mark.parametrize(("endpoint", "method", "status", "code"), [
    ("oauth2/token", "POST", 503, "SERVER_UNAVAILABLE"),
    ("describe", "GET", 500, "UNKNOWN_EXCEPTION"),
    ("query", "GET", 429, "REQUEST_LIMIT_EXCEEDED"),
    ("composite/sobjects", "PATCH", 503, "SERVER_UNAVAILABLE"),
    ("composite/sobjects", "PATCH", 400, "UNABLE_TO_LOCK_ROW"),  # the whole call
])
def test_a_fault_on_any_single_call_is_retried(sandbox, caplog, endpoint, method, status, code):
    seed(sandbox)
    sandbox.admin("salesforce", "POST", "/faults", json={
        "status": status, "error_code": code, "count": 1, "endpoint": endpoint,
        "method": method})
    run_in_process(sandbox, opt_out_streams("dana@x.io", True))
    assert all(opt_outs(sandbox, "dana@x.io").values())
    assert f"HTTP {status}" in caplog.text and "retry 1 of 5" in caplog.text


def test_a_token_endpoint_down_says_retry_later_not_renew(sandbox):
    seed(sandbox)
    sandbox.admin("salesforce", "POST", "/faults", json={
        "status": 502, "count": 10, "endpoint": "oauth2/token", "method": "POST"})
    with pytest.raises(SalesforceUnavailable) as failure:
        run_in_process(sandbox, opt_out_streams("dana@x.io", True), max_retries=2)
    message = str(failure.value)
    assert "sign-in failed 3 times" in message and "run again later" in message
    assert "Renew" not in message and not any(opt_outs(sandbox, "dana@x.io").values())


@pytest.mark.parametrize(("setting", "code"), [("client_id", "invalid_client_id"),
                                               ("client_secret", "invalid_client")])
def test_a_wrong_client_id_or_secret_says_to_check_the_connected_app(sandbox, setting, code):
    with pytest.raises(ClientRejected) as failure:
        run_in_process(sandbox, opt_out_streams("dana@x.io", True), **{setting: "wrong-value"})
    message = str(failure.value)
    assert code in message and "Consumer Key" in message and "Renew" not in message
    assert "wrong-value" not in message


def test_bulk_writes_report_each_failed_record_and_retry_lock_errors(sandbox, capsys):
    seed(sandbox)
    leads = {r["LastName"]: r["Id"] for r in rows(sandbox, "Lead")}
    sandbox.admin("salesforce", "POST", "/record-failures", json={
        "object": "Lead", "field": "Id", "values": [leads["Dup1"]], "times": 2,
        "error_code": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"})
    sandbox.admin("salesforce", "POST", "/record-failures", json={
        "object": "Lead", "field": "Id", "values": [leads["Other"]],
        "error_code": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Needs a reason"})
    streams = {"Lead": [{"Email": "dana@x.io", "HasOptedOutOfEmail": True},
                        {"Id": leads["Other"], "HasOptedOutOfEmail": True}]}
    with pytest.raises(RecordsRejectedError) as rejected:
        run_in_process(sandbox, streams, bulk_threshold=1)
    message = str(rejected.value)
    assert leads["Other"] in message and "FIELD_CUSTOM_VALIDATION_EXCEPTION" in message
    assert "Needs a reason" in message and leads["Dup1"] not in message
    opted = {r["Id"]: r["HasOptedOutOfEmail"] for r in rows(sandbox, "Lead")}
    assert opted == {leads["Dup1"]: True, leads["Dup2"]: True, leads["Other"]: False}
    assert "STATE" not in capsys.readouterr().out  # held back: the next run sends it again
    ingest = sum(c["count"] for c in sandbox.calls("salesforce")["calls"]
                 if c["method"] == "POST" and c["endpoint"].endswith("jobs/ingest"))
    assert ingest == 3  # the job, then two retries of the locked record


def test_bulk_and_rest_writes_leave_salesforce_alike(sandbox):
    def written(bulk_threshold: int) -> list[tuple]:
        seed(sandbox)
        run_in_process(sandbox, opt_out_streams("dana@x.io", True), bulk_threshold=bulk_threshold)
        found = sorted((s, r["LastName"], r.get(OPT_OUT_FIELD[s])) for s in EMAIL_FIELD
                       for r in rows(sandbox, s))
        sandbox.admin("salesforce", "POST", "/reset")
        return found

    assert written(1) == written(0)


@pytest.mark.parametrize("bulk_threshold", [0, 1])
def test_upsert_by_external_id_over_rest_and_bulk(sandbox, bulk_threshold):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Known", "Company": "C", "Email": "known@x.io", "External_Id__c": "e-1"}])
    streams = {"Lead": [{"External_Id__c": f"e-{i}", "LastName": f"E{i}", "Company": "C",
                         "HasOptedOutOfEmail": True} for i in (1, 2)]}
    run_in_process(sandbox, streams, match_fields={}, bulk_threshold=bulk_threshold,
                   external_id_fields={"Lead": "External_Id__c"})
    leads = {r["External_Id__c"]: (r["LastName"], r["HasOptedOutOfEmail"])
             for r in rows(sandbox, "Lead")}
    assert leads == {"e-1": ("E1", True), "e-2": ("E2", True)}
    jobs = sum(c["count"] for c in sandbox.calls("salesforce")["calls"]
               if c["method"] == "POST" and c["endpoint"].endswith("jobs/ingest"))
    assert jobs == (1 if bulk_threshold else 0)
