"""Random histories of edits in both systems, sync runs, write failures and kills.

A small simulated world (records with an opt-out flag and a "changed since the bookmark" mark)
is driven through the engine exactly as the mapper drives it. Whatever the history, once the
edits stop the sync must converge, go quiet, never lose an opt-out and never invent an opt-in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from consent_mapper.ledger.engine import (
    AUTOPILOT,
    BY_EMAIL,
    SALESFORCE,
    Observation,
    RecordKey,
    RecordMemory,
    decide,
)

PEOPLE = ("a@x.io", "b@x.io")
OK, FAIL, KILL = "ok", "fail", "kill"


@dataclass
class WorldRecord:
    key: RecordKey
    email: str
    opted_out: bool
    exists: bool = True
    dirty: bool = True  # changed since the source's bookmark
    modstamp: int = 0
    edited: bool = False  # a person edited it since the sync last read its system


@dataclass
class Ledger:
    agreed: dict[str, bool | None] = field(default_factory=dict)
    opted_out_at: dict[str, str | None] = field(default_factory=dict)
    records: dict[RecordKey, tuple[str, RecordMemory]] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=lambda: {SALESFORCE: 0, AUTOPILOT: 0})
    profile_confirmed: dict[str, bool] = field(default_factory=dict)

    def copy(self) -> Ledger:
        return Ledger(dict(self.agreed), dict(self.opted_out_at), dict(self.records),
                      dict(self.reads), dict(self.profile_confirmed))

    def of(self, email: str) -> dict[RecordKey, RecordMemory]:
        return {k: m for k, (e, m) in self.records.items() if e == email}

    def attention(self, target: str, retry_after_runs: int = 1) -> set[str]:
        """The SQL predicate of LedgerTransaction.attention, in Python."""
        found = set()
        for key, (email, m) in self.records.items():
            agreed = self.agreed.get(email)
            if key.system != target or not m.live or not m.writable:
                continue
            disagree = m.pending is None and agreed is not None and (
                (m.observed is not None and m.observed != agreed)
                or (m.observed is None and agreed))
            lost = (m.pending is not None and key.object != BY_EMAIL
                    and (m.pending_run or 0) <= self.reads[target] - retry_after_runs)
            if disagree or lost:
                found.add(email)
        return found


@dataclass
class World:
    records: list[WorldRecord]
    ledger: Ledger = field(default_factory=Ledger)
    history: dict[str, list[bool]] = field(default_factory=dict)  # user intents, in order
    clock: int = 0
    # people whose opt-out, made in one system after the sync last read it, was overwritten by
    # a re-subscribe decided from the other system: a race no reader can see (see README)
    raced: set[str] = field(default_factory=set)

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def of(self, system: str) -> list[WorldRecord]:
        return [r for r in self.records if r.key.system == system]

    def sync(self, source: str, outcome: str = OK) -> int:
        """One `meltano run` of source -> target, as the mapper drives the engine.

        ``fail``: the ledger committed but the target wrote nothing and the bookmark stayed.
        ``kill``: killed before the ledger committed: nothing happened.
        Returns how many writes reached the target.
        """
        target = AUTOPILOT if source == SALESFORCE else SALESFORCE
        ledger = self.ledger.copy()
        reads = ledger.reads[target]
        writes = []
        seen_by_person = {email: [Observation(r.key, r.opted_out, f"{r.modstamp:06d}")
                                  for r in self.of(source)
                                  if r.email == email and r.dirty and r.exists]
                          for email in PEOPLE}
        emails = {e for e, seen in seen_by_person.items() if seen}
        emails |= ledger.attention(target)
        profiles = []
        for email in sorted(emails):
            seen = seen_by_person[email]
            memory = ledger.of(email)
            if target == AUTOPILOT:
                live_sf = any(k.system == SALESFORCE and m.live for k, m in memory.items()) or \
                    any(o.key.system == SALESFORCE for o in seen)
                key = RecordKey(AUTOPILOT, "contact", email)
                if live_sf and key not in memory:
                    memory[key] = RecordMemory(key)
                if live_sf and seen and (not ledger.profile_confirmed.get(email)):
                    profiles.append(email)  # the profile upsert, sent until read back
                    ledger.profile_confirmed[email] = False
            else:
                pseudo = RecordKey(SALESFORCE, BY_EMAIL, email)
                if any(k.system == SALESFORCE and k.object != BY_EMAIL for k in memory):
                    memory.pop(pseudo, None)
                    ledger.records.pop(pseudo, None)
                elif seen and pseudo not in memory:
                    memory[pseudo] = RecordMemory(pseudo)
                if seen and email in ledger.profile_confirmed:
                    ledger.profile_confirmed[email] = True
            result = decide(ledger.agreed.get(email), ledger.opted_out_at.get(email), memory,
                            seen, target, reads, resend_pending=bool(seen))
            ledger.agreed[email] = result.agreed
            ledger.opted_out_at[email] = result.opted_out_at
            for key, m in result.records.items():
                ledger.records[key] = (email, m)
            writes += [(email, w) for w in result.writes]
        if outcome == KILL:
            return 0
        ledger.reads[source] += 1
        self.ledger = ledger  # the ledger commits before records and STATE are emitted
        if outcome == FAIL:
            return 0
        landed = 0
        for email in profiles:  # the profile upsert creates a missing contact, subscribed
            if not any(r.key.system == AUTOPILOT and r.email == email for r in self.records):
                self.records.append(WorldRecord(RecordKey(AUTOPILOT, "contact", email), email,
                                                False, modstamp=self.tick()))
        for email, write in writes:
            if write.key.object == BY_EMAIL:
                targets = [r for r in self.of(SALESFORCE) if r.email == email and r.exists]
            else:
                targets = [r for r in self.records if r.key == write.key and r.exists]
            for record in targets:
                if record.edited and record.opted_out and not write.opted_out:
                    self.raced.add(email)
                record.opted_out, record.dirty = write.opted_out, True
                record.modstamp = self.tick()
            landed += 1
        for record in self.of(source):
            record.dirty = record.edited = False  # the bookmark moves once the target drained
        return landed

    def final(self, email: str) -> set[bool]:
        return {r.opted_out for r in self.records if r.email == email and r.exists}


@st.composite
def worlds(draw: st.DrawFn) -> World:
    records = []
    for email in PEOPLE:
        for n in range(draw(st.integers(1, 2))):
            obj = ("Lead", "Contact")[n]
            records.append(WorldRecord(RecordKey(SALESFORCE, obj, f"{obj}-{email}"), email,
                                       draw(st.booleans())))
        if draw(st.booleans()):
            records.append(WorldRecord(RecordKey(AUTOPILOT, "contact", email), email,
                                       draw(st.booleans())))
    world = World(records)
    for email in PEOPLE:
        world.history[email] = [r.opted_out for r in records if r.email == email]
    return world


steps = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), st.integers(0, 5), st.booleans()),
        st.tuples(st.just("run"), st.sampled_from([SALESFORCE, AUTOPILOT]),
                  st.sampled_from([OK, OK, FAIL, KILL])),
    ),
    max_size=14,
)


def _converge(world: World) -> int:
    """Full rounds (Salesforce then Autopilot, as consent-sync runs) until nothing is written.

    A round that reads a disagreement in Autopilot corrects it in the next round's Salesforce
    run, so quiet means a round with no writes whose ledger ended where it started.
    """
    writes = 0
    for _ in range(8):
        before = world.ledger.copy()
        writes = world.sync(SALESFORCE) + world.sync(AUTOPILOT)
        if writes == 0 and _same_knowledge(before, world.ledger):
            break
    return writes


def _same_knowledge(a: Ledger, b: Ledger) -> bool:
    return (a.agreed, a.records, a.profile_confirmed) == (b.agreed, b.records,
                                                          b.profile_confirmed)


# derandomized: CI must not turn red on a new random draw; raise CONSENT_PROPERTY_EXAMPLES to
# explore further (README, "Known limits", lists the edge cases larger runs find)
@settings(max_examples=int(os.environ.get("CONSENT_PROPERTY_EXAMPLES", "400")), deadline=None,
          derandomize=True)
@given(worlds(), steps)
def test_any_history_converges_quietly_without_losing_an_opt_out(world, plan):
    initial_out = {e: any(world.history[e]) for e in PEOPLE}
    last_intent: dict[str, bool | None] = {e: None for e in PEOPLE}
    intents: dict[str, list[bool]] = {e: [] for e in PEOPLE}
    for step in plan:
        if step[0] == "edit":
            _, index, value = step
            record = world.records[index % len(world.records)]
            if record.exists and record.opted_out != value:  # ticking a ticked box is no act
                record.opted_out, record.dirty, record.edited = value, True, True
                record.modstamp = world.tick()
                last_intent[record.email] = value
                intents[record.email].append(value)
        else:
            _, source, outcome = step
            world.sync(source, outcome)

    assert _converge(world) == 0, "the sync never went quiet"
    assert world.sync(SALESFORCE) + world.sync(AUTOPILOT) == 0, "a quiet run wrote something"
    for email in PEOPLE:
        final = world.final(email)
        assert len(final) == 1, f"{email} did not converge: {final}"
        (out,) = final
        assert world.ledger.agreed[email] == out
        if last_intent[email] is True and email not in world.raced:
            assert out, f"the last thing {email} asked for was an opt-out, and it was lost"
        if not out:
            asked_in = False in intents[email]
            assert not initial_out[email] or asked_in, f"{email} was opted in unasked"
            if True in intents[email] and email not in world.raced:
                last_out = max(i for i, v in enumerate(intents[email]) if v)
                assert any(not v for v in intents[email][last_out + 1:]), \
                    f"{email} was opted in though its last opt-out was never taken back"


def test_first_sight_any_opt_out_wins_across_systems():
    lead = RecordKey(SALESFORCE, "Lead", "00Q1")
    contact = RecordKey(AUTOPILOT, "contact", "a@x.io")
    first = decide(None, None, {contact: RecordMemory(contact)}, [Observation(lead, False)],
                   AUTOPILOT, run=1)
    assert first.agreed is False and first.writes == []  # never re-subscribe an unseen contact
    second = decide(first.agreed, first.opted_out_at, first.records,
                    [Observation(contact, True)], SALESFORCE, run=1)
    assert second.agreed is True
    assert [(w.key, w.opted_out) for w in second.writes] == [(lead, True)]


def test_echo_of_our_own_write_is_a_confirmation_not_a_change():
    lead = RecordKey(SALESFORCE, "Lead", "00Q1")
    memory = {lead: RecordMemory(lead, observed=False, pending=True, pending_run=1)}
    outcome = decide(True, None, memory, [Observation(lead, True)], AUTOPILOT, run=2)
    assert outcome.echoes == 1 and outcome.changes == 0 and outcome.writes == []
    assert outcome.records[lead] == RecordMemory(lead, observed=True)
    assert [e.rule for e in outcome.events] == ["R6"]


def test_unconfirmed_write_is_sent_again_after_the_retry_window():
    lead = RecordKey(SALESFORCE, "Lead", "00Q1")
    memory = {lead: RecordMemory(lead, observed=False, pending=True, pending_run=1)}
    assert decide(True, None, memory, [], SALESFORCE, run=1, retry_after_runs=1).writes == []
    again = decide(True, None, memory, [], SALESFORCE, run=2, retry_after_runs=1)
    assert [(w.key, w.reason) for w in again.writes] == [(lead, "R7")]
