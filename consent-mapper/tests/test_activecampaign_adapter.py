"""ActiveCampaign contacts as the rule book sees them: consent on list subscriptions."""

from __future__ import annotations

import json

import pytest

from consent_mapper import rules
from consent_mapper.adapters import activecampaign as ac

CTX = rules.Context(source=rules.PLATFORM, platform="activecampaign",
                    now="2026-01-02T00:00:00.000Z", reads=1, crm_read=True)


def contact(*statuses: int, bounced_hard: str = "0", email: str = "a@x.io") -> dict:
    return {"id": "5", "email": email, "udate": "2026-01-01T00:00:00-06:00",
            "bounced_hard": bounced_hard,
            "lists": [{"list_id": str(n), "status": s, "updated_at": None}
                      for n, s in enumerate(statuses, 1)]}


@pytest.mark.parametrize(("statuses", "opted_out", "bounced"), [
    ((1, 2), False, False),  # unsubscribed from one of two lists: still opted in
    ((2, 2), True, False),  # unsubscribed from every list
    ((2, 1), False, False),  # active on any list
    ((3,), False, True),  # a bounce: the rule book decides with bounce_is_opt_out
    ((0,), False, False),  # unconfirmed only: no signal (below)
])
def test_consent_is_read_from_the_list_statuses(statuses, opted_out, bounced):
    seen = ac.observe("contacts", contact(*statuses))
    assert (seen.opted_out, seen.bounced) == (opted_out, bounced)
    assert seen.native_id == "5"


def test_a_contact_on_no_list_gives_no_signal_and_never_opts_anyone_out():
    seen = ac.observe("contacts", contact())
    assert seen.signal is False
    decision = rules.decide(rules.PersonMemory("a@x.io"), [seen], CTX)
    assert decision.memory.agreed is None and decision.writes == []


def test_a_contact_on_no_list_confirms_our_opt_out():
    seen = ac.observe("contacts", contact())
    written = rules.RecordMemory(seen.key, pending=True, pending_at="2026-01-01T00:00:00.000Z",
                                 pending_run=0)
    memory = rules.PersonMemory("a@x.io", agreed=True, records={seen.key: written})
    decision = rules.decide(memory, [seen], CTX)
    assert decision.echoes == 1 and decision.writes == []
    assert decision.memory.records[seen.key].pending is None


def test_an_opt_out_remembers_the_lists_it_leaves_and_a_resubscribe_returns_to_them():
    seen = ac.observe("contacts", contact(1, 1))
    memory = rules.RecordMemory(seen.key, observed=False, native_id="5",
                                platform_state=seen.platform_state)
    out = rules.Write(seen.key, True, "R5")
    remembered = rules.RecordMemory(seen.key, platform_state=ac.remember_write(memory, out))
    assert json.loads(remembered.platform_state)["unsubscribed_from"] == ["1", "2"]
    back = ac.contact_record(seen.key, remembered, None, rules.Write(seen.key, False, "R2"))
    assert back["unsubscribed"] is False and back["resubscribe_lists"] == ["1", "2"]
    # a later reading (on no active list) keeps what the sync unsubscribed it from
    merged = ac.merge_state(remembered.platform_state, json.dumps({"active": []}))
    assert json.loads(merged) == {"active": [], "unsubscribed_from": ["1", "2"]}


def test_an_opted_out_persons_profile_joins_no_list():
    doc = {"first_name": "A", "lists": ["Newsletter"]}
    assert ac.profile_for(doc, True) == {"first_name": "A"}
    assert ac.profile_for(doc, None) == {"first_name": "A"}  # not known yet: no subscription
    assert ac.profile_for(doc, False) == doc
