"""target-autopilot as Meltano runs it (its console script, Singer on stdin), against the
Autopilot stand-in over loopback TLS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from consent_sandbox.testing import RunningSandbox

SCRIPT = Path(sys.executable).parent / "target-autopilot"
SCHEMA = {"type": "SCHEMA", "stream": "contacts", "key_properties": ["Email"], "schema": {
    "type": "object", "properties": {
        "Email": {"type": "string"}, "FirstName": {"type": ["string", "null"]},
        "unsubscribed": {"type": ["boolean", "null"]},
        "custom_fields": {"type": ["object", "null"]},
        "lists": {"type": ["array", "null"], "items": {"type": "string"}},
        "lists_remove": {"type": ["array", "null"], "items": {"type": "string"}},
        "contact_id": {"type": ["string", "null"]},
        "_sdc_deleted_at": {"type": ["string", "null"]}}}}


def run_target(config: dict, workdir: Path, *records: dict,
               state: int = 1) -> subprocess.CompletedProcess:
    path = workdir / "config.json"
    path.write_text(json.dumps(config))
    lines = [SCHEMA, *({"type": "RECORD", "stream": "contacts", "record": r}
                      for r in records), {"type": "STATE", "value": {"n": state}}]
    return subprocess.run([str(SCRIPT), "--config", str(path)], text=True,
                          input="".join(json.dumps(m) + "\n" for m in lines),
                          capture_output=True, timeout=300, check=False)


@pytest.fixture
def run(target_config: dict, tmp_path: Path):
    def target(*records: dict, state: int = 1) -> subprocess.CompletedProcess:
        return run_target(target_config, tmp_path, *records, state=state)

    return target


def contacts(sandbox: RunningSandbox) -> dict[str, dict]:
    return {c["Email"]: c for c in sandbox.admin("autopilot", "GET", "/contacts").json()}


def calls(sandbox: RunningSandbox, method: str, endpoint: str) -> int:
    return sum(c["count"] for c in sandbox.calls("autopilot")["calls"]
               if (c["method"], c["endpoint"]) == (method, endpoint))


def all_calls(sandbox: RunningSandbox) -> int:
    return sum(c["count"] for c in sandbox.calls("autopilot")["calls"])


def list_ids(sandbox: RunningSandbox) -> dict[str, str]:
    ap = sandbox.endpoints["autopilot"]
    import requests  # the API itself, as a user of the account would read it

    body = requests.get(f"{ap['base_url']}/lists", headers={"autopilotapikey": ap["api_key"]},
                        verify=sandbox.ca_bundle, timeout=30).json()
    return {row["title"]: row["list_id"] for row in body["lists"]}


def states(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_250_contacts_go_in_3_bulk_calls_with_state_after(clean_sandbox, run):
    result = run(*({"Email": f"p{i}@x.io", "FirstName": f"P{i}", "unsubscribed": i % 2 == 0,
                    "lists": ["Salesforce Leads"] if i % 25 == 0 else None}
                   for i in range(250)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert calls(clean_sandbox, "POST", "/v1/contacts") == 3
    assert calls(clean_sandbox, "POST", "/v1/list") == 1  # the list is created once
    assert calls(clean_sandbox, "GET", "/v1/lists") == 1  # and looked up once
    # bulk, lists, the list's count read once: new contacts join inside their upsert
    assert all_calls(clean_sandbox) == 3 + 2 + 1
    found = contacts(clean_sandbox)
    assert len(found) == 250 and found["p0@x.io"]["unsubscribed"] is True
    assert found["p1@x.io"]["unsubscribed"] is False and found["p1@x.io"]["FirstName"] == "P1"
    leads = list_ids(clean_sandbox)["Salesforce Leads"]
    assert sorted(e for e, c in found.items() if leads in c["lists"]) == sorted(
        f"p{i}@x.io" for i in range(0, 250, 25))
    assert states(result) == [{"n": 1}]


def test_unsubscribed_is_written_both_ways_and_left_alone_when_absent(clean_sandbox, run):
    clean_sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "out@x.io", "unsubscribed": True}, {"Email": "back@x.io", "unsubscribed": True},
        {"Email": "in@x.io"}])
    result = run({"Email": "out@x.io", "FirstName": "Still out"},
                 {"Email": "back@x.io", "unsubscribed": False},
                 {"Email": "in@x.io", "unsubscribed": True})
    assert result.returncode == 0, result.stderr[-3000:]
    found = contacts(clean_sandbox)
    assert {e: c["unsubscribed"] for e, c in found.items()} == {
        "out@x.io": True, "back@x.io": False, "in@x.io": True}


def test_a_contact_id_unsubscribes_the_contact_it_names_beside_a_case_twin(clean_sandbox, run):
    clean_sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "Twin@x.io", "unsubscribed": False}, {"Email": "twin@x.io",
                                                        "unsubscribed": False}])
    second = contacts(clean_sandbox)["twin@x.io"]["contact_id"]
    result = run({"Email": "twin@x.io", "unsubscribed": True, "contact_id": second})
    assert result.returncode == 0, result.stderr
    found = contacts(clean_sandbox)
    # an upsert by address would have reached the older contact, Twin@x.io
    assert found["twin@x.io"]["unsubscribed"] is True
    assert found["Twin@x.io"]["unsubscribed"] is False
    assert calls(clean_sandbox, "POST", "/contacts") == 0


def test_custom_fields_round_trip_with_types_learnt_from_the_account(clean_sandbox, run):
    first = run({"Email": "a@x.io", "custom_fields": {"Customer Tier": "Gold", "Seats": 2.5,
                                                      "Renews On": "2026-05-01",
                                                      "Is Partner": True}})
    assert first.returncode == 0, first.stderr[-3000:]
    # a new run learns Seats is a float from the account: an int value is sent as 3.0
    second = run({"Email": "b@x.io", "custom_fields": {"Seats": 3, "Customer Tier": "Silver"}})
    assert second.returncode == 0, second.stderr[-3000:]
    found = contacts(clean_sandbox)
    assert {c["kind"]: (c["fieldType"], c["value"]) for c in found["a@x.io"]["custom_fields"]} == {
        "Customer Tier": ("string", "Gold"), "Seats": ("float", 2.5),
        "Renews On": ("date", "2026-05-01"), "Is Partner": ("boolean", True)}
    assert {c["kind"]: c["value"] for c in found["b@x.io"]["custom_fields"]} == {
        "Seats": 3.0, "Customer Tier": "Silver"}
    assert calls(clean_sandbox, "GET", "/v1/contacts/custom_fields") == 2  # once per run


def test_existing_contacts_join_and_leave_lists_and_removals_delete(clean_sandbox, run):
    clean_sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "gone@x.io"}, {"Email": "kept@x.io", "unsubscribed": True, "lists": ["B"]}])
    result = run({"Email": "kept@x.io", "FirstName": "K", "lists": ["A", "C"],
                  "lists_remove": ["B"]},
                 {"Email": "gone@x.io", "_sdc_deleted_at": "2026-01-01T00:00:00Z"},
                 {"Email": "never@x.io", "_sdc_deleted_at": "2026-01-01T00:00:00Z"})
    assert result.returncode == 0, result.stderr[-3000:]
    found = contacts(clean_sandbox)
    assert set(found) == {"kept@x.io"}
    ids = list_ids(clean_sandbox)
    assert sorted(found["kept@x.io"]["lists"]) == sorted([ids["A"], ids["C"]])
    assert found["kept@x.io"]["unsubscribed"] is True  # no flag in the record: left alone
    assert calls(clean_sandbox, "POST", "/v1/list") == 2
    result = run({"Email": "kept@x.io", "lists_remove": ["A", "No such list"]})
    assert result.returncode == 0, result.stderr[-3000:]
    assert contacts(clean_sandbox)["kept@x.io"]["lists"] == [ids["C"]]
    assert "No such list" not in list_ids(clean_sandbox)  # leaving never creates a list


@pytest.mark.parametrize(("mode", "most_reads", "most_joins"), [
    ("always", 3, 50 + 2),  # the 50 new ones, and at most 2 asked blind
    ("checked", 1 + 1 + 3, 0),  # first page, the count, then the whole list: no join at all
])
def test_members_resent_to_a_list_cost_page_reads_not_joins(clean_sandbox, target_config,
                                                            tmp_path, mode, most_reads,
                                                            most_joins):
    clean_sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": f"n{i}@x.io", "lists": ["Newsletter"]} for i in range(300)])
    result = run_target({**target_config, "list_membership": mode}, tmp_path,
                        *({"Email": f"n{i}@x.io", "lists": ["Newsletter"]} for i in range(350)))
    assert result.returncode == 0, result.stderr[-3000:]
    joins = calls(clean_sandbox, "POST", "/v1/list/{list_id}/contact/{ref}")
    reads = (calls(clean_sandbox, "GET", "/v1/list/{list_id}/contacts")
             + calls(clean_sandbox, "GET", "/v1/list/{list_id}/contacts/{bookmark}"))
    assert reads <= most_reads and joins <= most_joins
    newsletter = list_ids(clean_sandbox)["Newsletter"]
    assert all(c["lists"] == [newsletter] for c in contacts(clean_sandbox).values())


def test_existing_contacts_missing_from_the_list_are_found_by_its_count(clean_sandbox, run):
    clean_sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "old1@x.io"}, {"Email": "old2@x.io"}, {"Email": "in@x.io", "lists": ["L"]}])
    result = run(*({"Email": e, "lists": ["L"]} for e in
                   ("old1@x.io", "new1@x.io", "in@x.io", "old2@x.io", "new2@x.io")),
                 {"Email": "new3@x.io", "lists": ["L", "Second"]})
    assert result.returncode == 0, result.stderr[-3000:]
    ids = list_ids(clean_sandbox)
    found = contacts(clean_sandbox)
    assert all(ids["L"] in c["lists"] for c in found.values())
    assert found["new3@x.io"]["lists"] == sorted([ids["L"], ids["Second"]]) or set(
        found["new3@x.io"]["lists"]) == {ids["L"], ids["Second"]}
    # the two that existed outside the list, and the second list of new3: one call each
    assert calls(clean_sandbox, "POST", "/v1/list/{list_id}/contact/{ref}") == 3
    assert states(result) == [{"n": 1}]


def test_429_and_503_are_survived_with_nothing_lost(clean_sandbox, run):
    for status in (429, 503, 429):
        clean_sandbox.admin("autopilot", "POST", "/faults",
                            json={"status": status, "count": 1, "method": "POST"})
    result = run(*({"Email": f"r{i}@x.io", "lists": ["R"] if i == 7 else None}
                   for i in range(150)))
    assert result.returncode == 0, result.stderr[-3000:]
    found = contacts(clean_sandbox)
    assert len(found) == 150 and found["r7@x.io"]["lists"] == [list_ids(clean_sandbox)["R"]]
    assert "retrying" in result.stderr and states(result) == [{"n": 1}]


def test_a_rejected_record_is_reported_and_fails_the_run_after_the_rest(clean_sandbox, run):
    # the sandbox refuses what Autopilot refuses: a custom value of the wrong type
    result = run({"Email": "good@x.io", "custom_fields": {"Seats": 2}},
                 {"Email": "bad@x.io", "custom_fields": {"Seats": "many"}},
                 {"Email": "not-an-email"},
                 {"Email": "fine@x.io", "lists": ["L"]})
    assert result.returncode != 0
    assert "2 record(s) failed" in result.stderr
    assert "bad@x.io: not written: Autopilot answered 400" in result.stderr
    assert "not-an-email: not sent" in result.stderr
    found = contacts(clean_sandbox)
    assert set(found) == {"good@x.io", "fine@x.io"} and len(found["fine@x.io"]["lists"]) == 1
    assert states(result) == []  # no bookmark past a failed record
    assert calls(clean_sandbox, "POST", "/v1/contact") == 3  # the bulk's 3 sent one by one


def test_a_wrong_api_key_stops_the_run_with_the_fix(clean_sandbox, target_config, tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({**target_config, "api_key": "wrong-key-1234"}))
    line = "".join(json.dumps(m) + "\n" for m in [
        SCHEMA, {"type": "RECORD", "stream": "contacts", "record": {"Email": "a@x.io"}}])
    result = subprocess.run([str(SCRIPT), "--config", str(config)], input=line, text=True,
                            capture_output=True, timeout=60, check=False)
    assert result.returncode != 0 and "check the api_key setting" in result.stderr
    assert "wrong-key-1234" not in result.stderr + result.stdout
    assert calls(clean_sandbox, "POST", "/v1/contacts") == 1  # no per-record retry


def test_another_stream_is_refused_by_name(target_config, tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps(target_config))
    line = json.dumps({**SCHEMA, "stream": "people"}) + "\n"
    result = subprocess.run([str(SCRIPT), "--config", str(config)], input=line, text=True,
                            capture_output=True, timeout=60, check=False)
    assert result.returncode != 0 and "'people' is not supported" in result.stderr
    assert '"people": {"__alias__": "contacts"}' in result.stderr


def test_about_describes_every_setting():
    about = json.loads(subprocess.run([str(SCRIPT), "--about", "--format=json"],
                                      capture_output=True, text=True, check=True).stdout)
    properties = about["settings"]["properties"]
    ours = {"api_key", "base_url", "ca_bundle", "rate_limit_per_second", "max_retries",
            "retry_backoff_seconds", "list_membership"}
    assert ours <= set(properties)
    assert all(p.get("description") for p in properties.values())
    assert properties["api_key"].get("secret") is True


def test_calls_per_10000_contacts(clean_sandbox, run):
    """The cost the README states: 100 bulk upserts and one custom field read per 10,000."""
    result = run(*({"Email": f"m{i}@x.io", "FirstName": f"M{i}", "unsubscribed": i % 3 == 0,
                    "custom_fields": {"Tier": "Gold"}} for i in range(10_000)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert all_calls(clean_sandbox) == 100 + 1
    assert len(contacts(clean_sandbox)) == 10_000
    assert "10000 contacts upserted, 0 deleted, 0 failed, 101 calls" in result.stderr
