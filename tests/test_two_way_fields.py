"""Mapped fields sync both ways through real `meltano run consent-sync`: a change made in one
system reaches the other, the later change wins a conflict, read-only fields travel one way and
are reported once, types convert (checkbox <-> boolean, dates)."""

from __future__ import annotations

import json

import pytest

JOB = "consent-sync"
FIELDS = {"Tier__c": "string", "Vip__c": "boolean", "Renewal__c": "date"}
FIELD_MAP = {"Tier__c": "Customer Tier", "Vip__c": "VIP", "Renewal__c": "Renewal Date",
             "Score_Band__c": "Score Band"}


@pytest.fixture
def fields(systems):
    """Custom fields on Lead and Contact (a formula among them), read by the tap, mapped."""
    for obj in ("Lead", "Contact"):
        for name, kind in FIELDS.items():
            systems.sandbox.admin("salesforce", "POST", "/fields",
                                  json={"object": obj, "name": name, "type": kind})
        systems.sandbox.admin("salesforce", "POST", "/fields",
                              json={"object": obj, "name": "Score_Band__c", "formula": True})
    env = systems.meltano.extra_env
    env["TAP_SALESFORCE_OPTOUT_EXTRA_FIELDS"] = json.dumps(
        {obj: list(FIELD_MAP) for obj in ("Lead", "Contact")})
    env["CONSENT_MAPPER_FIELD_MAP"] = json.dumps(FIELD_MAP)
    return systems


def lead(s, **values: object) -> str:
    (record_id,) = s.add("Lead", {"LastName": "Dana", "Company": "C", "Email": "dana@x.io",
                                  **values})
    return record_id


def sf_row(s, record_id: str) -> dict:
    return next(r for r in s.sandbox.admin("salesforce", "GET", "/records/Lead").json()
                if r["Id"] == record_id)


def ap_custom(s, email: str = "dana@x.io") -> dict:
    return {c["kind"]: c["value"] for c in s.ap()[email].get("custom_fields", [])}


def ap_set(s, **custom: object) -> None:
    s.ap_edit("dana@x.io", custom=custom)


def settle(s) -> None:
    """Two rounds: the second reads back what the first wrote."""
    s.meltano.run(JOB)
    s.meltano.run(JOB)


def test_a_change_in_autopilot_reaches_salesforce_and_the_next_run_writes_nothing(fields):
    s = fields
    record_id = lead(s, Tier__c="Gold")
    settle(s)
    assert ap_custom(s)["Customer Tier"] == "Gold"  # Salesforce's value reached Autopilot
    ap_set(s, **{"string--Customer--Tier": "Platinum"})
    s.meltano.run(JOB)
    assert sf_row(s, record_id)["Tier__c"] == "Platinum"
    assert ap_custom(s)["Customer Tier"] == "Platinum"
    s.meltano.run(JOB)  # reads our write back: an echo
    s.reset_counters()
    s.meltano.run(JOB)
    assert s.writes() == {"salesforce": 0, "platform": 0}
    assert "field: change travels" in s.history("dana@x.io")


def test_a_conflict_is_decided_by_the_later_change_autopilot_later(fields):
    s = fields
    record_id = lead(s, Tier__c="Gold")
    settle(s)
    s.edit("Lead", record_id, Tier__c="Silver")  # Salesforce first ...
    ap_set(s, **{"string--Customer--Tier": "Platinum"})  # ... Autopilot later
    out = s.meltano.run(JOB)
    # the Salesforce block's write to Autopilot expected Gold: left out (compare-and-set); the
    # Autopilot block then reads Platinum, the later change, and writes it to Salesforce
    assert "Customer Tier is 'Platinum', expected 'Gold'" in out.stderr
    assert sf_row(s, record_id)["Tier__c"] == "Platinum"
    assert ap_custom(s)["Customer Tier"] == "Platinum"
    history = s.history("dana@x.io")
    assert "field: later change wins" in history
    assert "the later change (Autopilot) wins" in history
    s.reset_counters()
    settle(s)
    assert s.writes() == {"salesforce": 0, "platform": 0}


def test_a_conflict_is_decided_by_the_later_change_salesforce_later(fields):
    s = fields
    record_id = lead(s, Tier__c="Gold")
    settle(s)
    ap_set(s, **{"string--Customer--Tier": "Platinum"})  # Autopilot first ...
    s.edit("Lead", record_id, Tier__c="Silver")  # ... Salesforce later
    s.meltano.run(JOB)
    out = s.meltano.run(JOB)
    assert sf_row(s, record_id)["Tier__c"] == "Silver"
    assert ap_custom(s)["Customer Tier"] == "Silver"
    history = s.history("dana@x.io")
    assert "field: later change wins" in history and "'Silver' stays" in history
    assert "mapped fields:" in out.stderr


def test_a_read_only_field_travels_one_way_and_is_reported_once(fields):
    s = fields
    record_id = lead(s, Score_Band__c="A")
    settle(s)
    assert ap_custom(s)["Score Band"] == "A"
    ap_set(s, **{"string--Score--Band": "Z"})
    first = s.meltano.run(JOB)
    second = s.meltano.run(JOB)
    assert sf_row(s, record_id)["Score_Band__c"] == "A"  # never written to Salesforce
    assert ap_custom(s)["Score Band"] == "A"  # Salesforce's value went back to Autopilot
    said = "read-only or a formula field in Salesforce"
    assert said in first.stderr and said not in second.stderr
    assert s.history("dana@x.io").count("field: read-only, one way") == 1


def test_checkbox_and_date_convert_both_ways(fields):
    s = fields
    record_id = lead(s, Vip__c=True, Renewal__c="2025-03-01")
    settle(s)
    fields_there = {c["kind"]: c for c in s.ap()["dana@x.io"]["custom_fields"]}
    assert (fields_there["VIP"]["fieldType"], fields_there["VIP"]["value"]) == ("boolean", True)
    assert fields_there["Renewal Date"]["fieldType"] == "date"
    assert fields_there["Renewal Date"]["value"][:10] == "2025-03-01"
    ap_set(s, **{"boolean--VIP": False, "date--Renewal--Date": "2026-07-15"})
    settle(s)
    row = sf_row(s, record_id)
    assert row["Vip__c"] is False and row["Renewal__c"] == "2026-07-15"
    s.reset_counters()
    s.meltano.run(JOB)
    assert s.writes() == {"salesforce": 0, "platform": 0}
