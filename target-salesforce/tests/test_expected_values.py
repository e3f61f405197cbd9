"""Compare-and-set: records that say which values they expect are written only while they hold."""

from __future__ import annotations

from target_salesforce.expectations import check_expected, same
from target_salesforce.records import StreamKeys, key_record

from .test_integration_target import rows

LEAD = StreamKeys("Lead", match_field="Email")
DESCRIBE = {"fields": [{"name": "Id", "type": "id"}, {"name": "Tier__c", "type": "string"},
                       {"name": "Vip__c", "type": "boolean"},
                       {"name": "Renewal__c", "type": "date"},
                       {"name": "Score__c", "type": "double"}]}


def test_values_compare_as_salesforce_stores_them():
    assert same(True, "True", "boolean") and not same(False, True, "boolean")
    assert same("2024-05-01", "2024-05-01T00:00:00Z", "date")
    assert same(3.0, 3, "double") and not same(3.5, 3, "double")
    assert same(None, "", "string") and not same("Gold", "gold", "string")


def test_one_query_per_200_ids_and_stale_records_are_set_apart():
    keyed = [key_record({"Id": f"00Q{n:012d}", "Tier__c": "Platinum",
                         "_expected": {"Tier__c": "Gold"}}, LEAD) for n in range(250)]
    keyed.append(key_record({"Id": "00Q999999999999", "HasOptedOutOfEmail": True}, LEAD))
    asked = []

    def query(soql: str) -> list[dict]:
        asked.append(soql)
        return [{"Id": "00Q000000000001", "Tier__c": "Silver"}] + [
            {"Id": f"00Q{n:012d}", "Tier__c": "Gold"} for n in range(2, 250)]

    checked = check_expected("Lead", DESCRIBE, keyed, {}, query)
    assert len(asked) == 2 and asked[0].startswith("SELECT Id, Tier__c FROM Lead WHERE Id IN (")
    assert [str(s) for s in checked.stale] == [
        "Id=00Q000000000001: Tier__c is 'Silver', expected 'Gold'"]
    assert len(checked.current) == 250  # 249 that still hold Gold, the one without expectations


def test_a_record_changed_since_is_skipped_and_the_rest_written(sandbox, run_target):
    sandbox.admin("salesforce", "POST", "/fields", json={"object": "Lead", "name": "Tier__c"})
    ids = sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "A", "Company": "C", "Email": "a@x.io", "Tier__c": "Gold"},
        {"LastName": "B", "Company": "C", "Email": "b@x.io", "Tier__c": "Silver"},
    ]).json()["ids"]
    result = run_target(sandbox, {"Lead": [
        {"Id": ids[0], "Tier__c": "Platinum", "_expected": {"Tier__c": "Gold"}},
        {"Id": ids[1], "Tier__c": "Platinum", "_expected": {"Tier__c": "Gold"}},
        {"Id": ids[1], "HasOptedOutOfEmail": True},
    ]}, state={"bookmarks": {"n": 1}})
    assert result.returncode == 0, result.stderr
    assert result.states == [{"bookmarks": {"n": 1}}]  # skipped is not failed: state moves
    assert "Tier__c is 'Silver', expected 'Gold'" in result.stderr
    tiers = {r["Id"]: (r["Tier__c"], r["HasOptedOutOfEmail"]) for r in rows(sandbox, "Lead")}
    assert tiers == {ids[0]: ("Platinum", False), ids[1]: ("Silver", True)}


def test_expected_values_on_a_record_without_id_are_refused(sandbox, run_target):
    result = run_target(sandbox, {"Lead": [
        {"Email": "a@x.io", "Tier__c": "P", "_expected": {"Tier__c": "G"}}]})
    assert result.returncode != 0
    assert "expected values are checked on records named by Id only" in result.stderr
