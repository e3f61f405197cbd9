"""Edges of the consent rules found by trying the sync as a user would, through `meltano run`.

One sandbox for all of them (their addresses cannot meet); the last assertions are that every
pending write ended and that a run after them writes nothing.
"""

from __future__ import annotations

import pytest

from consent_sandbox.testing import running_sandbox

from .conftest import SANDBOX_ARGS, Systems, project

JOB = "consent-sync"
edge_tests = pytest.mark.xdist_group("consent-edges")


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edges")
    with running_sandbox(folder / "sandbox", *SANDBOX_ARGS) as sandbox:
        s = Systems(sandbox, project(sandbox, folder))
        ids: dict[str, str] = {}
        # an opted-out Autopilot contact with no Salesforce record at all
        s.ap_add({"Email": "only-ap@x.io", "unsubscribed": True})
        # two Autopilot contacts whose addresses differ only in case, beside one Lead
        s.ap_add({"Email": "Case@x.io", "unsubscribed": True})
        s.ap_add({"Email": "case@x.io", "unsubscribed": False})
        s.add("Lead", {"LastName": "Case", "Company": "C", "Email": "case@x.io"})
        # the same beside a Lead that re-subscribes later: Autopilot re-subscribes by address,
        # which reaches the older contact only (chaos suite: never quiet)
        s.ap_add({"Email": "Twin@x.io", "unsubscribed": True})
        s.ap_add({"Email": "twin@x.io", "unsubscribed": True})
        (ids["twin"],) = s.add("Lead", {"LastName": "Twin", "Company": "C",
                                        "Email": "twin@x.io", "HasOptedOutOfEmail": True})
        # a Lead converted into a Contact of another address
        (ids["lead"],) = s.add("Lead", {"LastName": "Own", "Company": "C",
                                        "Email": "own@x.io", "HasOptedOutOfEmail": True})
        (ids["contact"],) = s.add("Contact", {"LastName": "Other", "Email": "other@x.io"})
        s.meltano.run(JOB)
        sandbox.admin("salesforce", "POST", "/convert-lead", json={
            "lead_id": ids["lead"], "contact_id": ids["contact"]})
        s.edit("Lead", ids["twin"], HasOptedOutOfEmail=False)
        for _ in range(3):
            s.meltano.run(JOB)
        s.reset_counters()
        s.meltano.run(JOB)
        yield s, ids, s.writes()


@edge_tests
def test_every_pending_write_ends(edges):
    s, _, _ = edges
    assert s.ledger("pending").strip().endswith("0 pending write(s)"), s.ledger("pending")


@edge_tests
def test_a_run_after_the_edges_writes_nothing(edges):
    _, _, writes = edges
    assert writes == {"salesforce": 0, "platform": 0}


@edge_tests
def test_both_case_spellings_of_an_opted_out_address_end_opted_out(edges):
    s, _, _ = edges
    contacts = {c["Email"]: c["unsubscribed"]
                for c in s.sandbox.admin("autopilot", "GET", "/contacts").json()}
    assert contacts["Case@x.io"] is True and contacts["case@x.io"] is True
    assert set(s.crm("case@x.io").values()) == {True}


@edge_tests
def test_a_re_subscribe_the_newer_case_twin_cannot_take_is_given_up_and_said(edges):
    s, _, _ = edges
    contacts = {c["Email"]: c["unsubscribed"]
                for c in s.sandbox.admin("autopilot", "GET", "/contacts").json()}
    assert contacts["Twin@x.io"] is False  # the older one: the upsert by address reached it
    assert contacts["twin@x.io"] is True  # given up, and said in its history
    assert set(s.crm("twin@x.io").values()) == {False}
    assert "re-subscribes by address only" in s.history("twin@x.io")


@edge_tests
def test_a_converted_leads_opt_out_reaches_its_contact_and_nothing_is_left_pending(edges):
    s, ids, _ = edges
    assert s.crm("other@x.io") == {f"Contact {ids['contact']}": True}
    assert s.ap()["other@x.io"]["unsubscribed"] is True
