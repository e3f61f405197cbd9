"""Contacts carry their lists' titles beside the ids: one GET /lists a run, none when idle."""

from __future__ import annotations

from tap_autopilot.list_titles import ListTitles


def test_titles_are_read_once_and_again_once_for_a_list_created_since():
    answers = [[{"list_id": "l1", "title": "Salesforce Leads"}],
               [{"list_id": "l1", "title": "Salesforce Leads"},
                {"list_id": "l2", "title": "Salesforce Contacts"}]]
    calls: list[int] = []

    def read() -> list[dict]:
        calls.append(1)
        return answers[min(len(calls) - 1, 1)]

    titles = ListTitles(read)
    assert titles.of([]) == [] and calls == []  # no list, no call
    assert titles.of(["l1"]) == ["Salesforce Leads"]
    assert titles.of(["l1"]) == ["Salesforce Leads"] and len(calls) == 1
    assert titles.of(["l2", "l1"]) == ["Salesforce Contacts", "Salesforce Leads"]
    assert titles.of(["gone", "l1"]) == ["Salesforce Leads"] and len(calls) == 2


def test_a_scan_emits_list_titles_with_one_lists_call(sandbox, admin, tmp_path, run_tap,
                                                     tap_config):
    admin(sandbox, "POST", "/contacts", json=[
        {"Email": "in@titles.example", "lists": ["Salesforce Leads"]},
        {"Email": "out@titles.example"}])
    admin(sandbox, "DELETE", "/calls")
    run = run_tap(tmp_path, tap_config(sandbox))
    found = {r["Email"]: r for r in run.records["contacts"]
             if r["Email"].endswith("@titles.example")}
    assert found["in@titles.example"]["list_titles"] == ["Salesforce Leads"]
    assert found["in@titles.example"]["lists"][0].startswith("contactlist_")
    assert found["out@titles.example"]["list_titles"] == []
    calls = admin(sandbox, "GET", "/calls").json()["calls"]
    assert sum(c["count"] for c in calls if c["endpoint"] == "/v1/lists") == 1
