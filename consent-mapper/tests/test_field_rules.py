"""Two-way mapped fields: echoes, changes, the later change wins, read-only fields, types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consent_mapper.field_rules import (
    CHANGED,
    LATER_WINS,
    READ_ONLY,
    RESENT,
    Agreed,
    FieldContext,
    FieldMemory,
    Reading,
    decide_field,
)
from consent_mapper.field_values import Unconvertible, canonical, encode, kind_of
from consent_mapper.rules import CRM, PLATFORM, RecordKey

LEAD = RecordKey(CRM, "salesforce", "Lead", "00Q000000000001AAA")
AP = RecordKey(PLATFORM, "autopilot", "contact", "dana@x.io")
T0, T1, T2, T3 = (f"2026-01-01T00:0{n}:00.000+00:00" for n in range(4))
NOW = "2026-01-01T00:09:00.000+00:00"


def v(value: object) -> str:
    return encode(value)


def a2s(**kw: object) -> FieldContext:
    return FieldContext(source=PLATFORM, now=NOW, reads=5, targets=[LEAD], **kw)


def s2a(**kw: object) -> FieldContext:
    return FieldContext(source=CRM, now=NOW, reads=5, targets=[AP], **kw)


AGREED_GOLD = Agreed(v("Gold"), T0, "salesforce")
IN_LINE = {LEAD: FieldMemory(LEAD, v("Gold"), T0), AP: FieldMemory(AP, v("Gold"), T0)}


def test_a_platform_change_reaches_salesforce_expecting_the_value_last_seen_there():
    out = decide_field("Tier__c", AGREED_GOLD, IN_LINE, [Reading(AP, v("Platinum"), T1)], a2s())
    assert out.agreed == Agreed(v("Platinum"), T1, "autopilot")
    assert [(w.key, w.value, w.expected) for w in out.writes] == [(LEAD, v("Platinum"), v("Gold"))]
    assert out.records[LEAD].pending == v("Platinum")
    assert [e.rule for e in out.events] == [CHANGED] and out.events[0].targets == (LEAD,)


def test_our_write_read_back_is_an_echo_and_an_idle_run_writes_nothing():
    written = {AP: FieldMemory(AP, v("Platinum"), T1),
               LEAD: FieldMemory(LEAD, v("Gold"), T0, pending=v("Platinum"), pending_at=NOW,
                                 pending_run=5)}
    agreed = Agreed(v("Platinum"), T1, "autopilot")
    out = decide_field("Tier__c", agreed, written, [Reading(LEAD, v("Platinum"), T2)],
                       s2a())
    assert out.echoes == 1 and out.agreed == agreed and not out.events
    assert out.records[LEAD] == FieldMemory(LEAD, v("Platinum"), T2)
    # AP already holds Platinum (observed): nothing to write to it either
    idle = decide_field("Tier__c", agreed, out.records, [], s2a())
    assert not idle.writes and not idle.events


def refused_write() -> dict:
    """A2S decided Platinum (Autopilot at T1) and sent it expecting Gold; Salesforce had moved."""
    return {LEAD: FieldMemory(LEAD, v("Gold"), T0, pending=v("Platinum"), pending_at=NOW,
                              pending_run=5),
            AP: FieldMemory(AP, v("Platinum"), T1)}


def test_conflict_salesforce_later_wins_and_reaches_autopilot():
    agreed = Agreed(v("Platinum"), T1, "autopilot")
    out = decide_field("Tier__c", agreed, refused_write(), [Reading(LEAD, v("Silver"), T2)],
                       s2a())
    assert out.agreed == Agreed(v("Silver"), T2, "salesforce") and out.conflicts == 1
    assert [(w.key, w.value) for w in out.writes] == [(AP, v("Silver"))]
    assert out.events[0].rule == LATER_WINS and "the later change (Salesforce) wins" in \
        out.events[0].detail


def test_conflict_autopilot_later_keeps_its_value_and_salesforce_is_written_at_the_next_a2s():
    agreed = Agreed(v("Platinum"), T2, "autopilot")
    out = decide_field("Tier__c", agreed, refused_write(), [Reading(LEAD, v("Silver"), T1)],
                       s2a())
    assert out.agreed == agreed and out.conflicts == 1 and not out.writes  # AP has Platinum
    assert out.events[0].rule == LATER_WINS and "'Platinum' stays" in out.events[0].detail
    assert out.records[LEAD].observed == v("Silver") and out.records[LEAD].pending is None
    # the next A2S sends it again, now expecting what Salesforce holds
    again = decide_field("Tier__c", agreed, out.records, [], a2s())
    assert [(w.value, w.expected) for w in again.writes] == [(v("Platinum"), v("Silver"))]
    assert again.events[0].rule == RESENT


def test_a_write_no_read_saw_back_is_sent_again():
    lost = {**IN_LINE, AP: FieldMemory(AP, v("Gold"), T0, pending=v("Platinum"),
                                       pending_at=NOW, pending_run=3)}
    agreed = Agreed(v("Platinum"), T1, "salesforce")
    assert [w.key for w in decide_field("Tier__c", agreed, lost, [], s2a()).writes] == [AP]
    fresh = {**lost, AP: FieldMemory(AP, v("Gold"), T0, pending=v("Platinum"), pending_run=5)}
    assert not decide_field("Tier__c", agreed, fresh, [], s2a()).writes


def test_read_only_field_is_reported_once_and_salesforce_value_goes_back():
    ctx = a2s(read_only=frozenset({"Lead"}), one_way=True)
    out = decide_field("Band__c", AGREED_GOLD, IN_LINE, [Reading(AP, v("Z"), T1)], ctx)
    assert out.agreed == AGREED_GOLD and not out.writes
    assert [e.rule for e in out.events] == [READ_ONLY] and out.records[AP].noted == v("Z")
    # read again (another field moved updated_at): not reported again
    again = decide_field("Band__c", AGREED_GOLD, out.records, [Reading(AP, v("Z"), T2)], ctx)
    assert not again.events
    # the CRM-to-platform run puts Salesforce's value back
    back = decide_field("Band__c", AGREED_GOLD, out.records, [], s2a(one_way=True))
    assert [(w.key, w.value) for w in back.writes] == [(AP, v("Gold"))]


def test_first_sight_and_empty_values():
    out = decide_field("Tier__c", None, {}, [Reading(LEAD, v("Gold"), T0)], s2a())
    assert out.agreed == AGREED_GOLD and [w.key for w in out.writes] == [AP]
    empty = decide_field("Tier__c", AGREED_GOLD, IN_LINE, [Reading(AP, v(None), T1)], a2s())
    assert empty.agreed == AGREED_GOLD and not empty.writes  # emptying does not travel


@pytest.mark.parametrize(("raw", "kind", "expected"), [
    ("True", "boolean", True), ("false", "boolean", False), (True, "boolean", True),
    ("12", "integer", 12), (12.0, "integer", 12), ("4.5", "number", 4.5),
    ("2025-03-01", "date", "2025-03-01"), ("2025-03-01T00:00:00.000Z", "date", "2025-03-01"),
    (int(datetime(2025, 3, 1, tzinfo=UTC).timestamp() * 1000), "date", "2025-03-01"),
    ("2025-03-01T10:00:00.000+0000", "date-time", "2025-03-01T10:00:00.000+00:00"),
    ("", "string", None), (7, "string", "7"),
])
def test_values_convert_as_the_salesforce_field_stores_them(raw, kind, expected):
    assert canonical(raw, kind) == expected


def test_unconvertible_values_and_schema_kinds():
    with pytest.raises(Unconvertible):
        canonical("maybe", "boolean")
    with pytest.raises(Unconvertible):
        canonical("4.5", "integer")
    assert kind_of({"type": ["boolean", "null"]}) == "boolean"
    assert kind_of({"type": ["string", "null"], "format": "date"}) == "date"
    assert kind_of({"type": ["number", "null"]}) == "number"
