"""Random histories of edits in both systems, sync runs, write failures, kills and deletions.

A small simulated world (Salesforce Leads and Contacts, duplicates among them, deleted or out of
the selection; Autopilot contacts, unsubscribed or hard-bounced; every stamp from one simulated
clock) is driven through the real mapper: a `ConsentMapper` per run, fed the Singer messages the
taps would send, its ledger a SQLite file, its emitted records applied to the simulated target
as target-salesforce and target-autopilot apply them. Whatever the history, once the edits stop
the sync must converge and go quiet, never lose an opt-out and never invent an opt-in.
"""

from __future__ import annotations

import functools
import logging
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from singer_sdk.singerlib import RecordMessage, StateMessage

from consent_mapper import clock
from consent_mapper.ledger import schema, store
from consent_mapper.mapper import ConsentMapper

PEOPLE = ("a@x.io", "b@x.io")
S2A, A2S = "salesforce_to_autopilot", "autopilot_to_salesforce"
# run outcomes: the target wrote everything / nothing / some of it (a rejected record or a
# failed call: the target then holds STATE back); killed before the ledger committed (it rolls
# back); killed after it (the records never land, STATE is not saved)
OK, FAIL, PARTIAL, KILL_BEFORE, KILL_AFTER = "ok", "fail", "partial", "kill-before", "kill-after"
EPOCH = datetime(2026, 3, 1, tzinfo=UTC)
# exclusions from "the last opt-out wins": races no reader can see (listed in the report)
RESUBSCRIBE_RACE = "a re-subscribe from the other system overwrote an opt-out made after the " \
                   "last read"
REMOVE_RACE = "on_exit=remove deleted a contact whose opt-out was made after the last read"
MOVED_AWAY = "an opt-out no run had read moved to another address with its record"
TOUCHED_LATER = "an edit of another field, after an unread re-subscribe, dated it after an " \
                "opt-out made in between"


class Killed(Exception):  # noqa: N818 - it names what happened to the run
    """kill -9 of the run before the ledger committed."""


def _stamp(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


@dataclass
class SfRecord:
    id: str
    object: str  # Lead or Contact
    email: str  # as Salesforce spells it
    opted_out: bool
    modstamp: int
    deleted: bool = False
    selected: bool = True
    unread_opt_out: bool = False  # a person's opt-out here that no committed run has read
    unread_resubscribe: int | None = None  # its index in the intents, while no run has read it
    known: bool = False  # the sync has read or written it: it had a belief about it
    converted_to: str | None = None  # a converted Lead: read-only, its Contact is the person

    def row(self) -> dict:
        row = {"Id": self.id, "Email": self.email, "HasOptedOutOfEmail": self.opted_out,
               "IsDeleted": self.deleted, "LastName": f"Name {self.id}",
               "SystemModstamp": _stamp(self.modstamp).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
               "in_selection": self.selected}
        row |= ({"IsConverted": self.converted_to is not None,
                 "ConvertedContactId": self.converted_to} if self.object == "Lead"
                else {"IsPersonAccount": False})
        return row


@dataclass
class ApContact:
    contact_id: str
    email: str  # as Autopilot spells it; matched case-blind on upsert
    unsubscribed: bool
    updated_at: int
    bounced: bool = False
    unread_opt_out: bool = False
    unread_resubscribe: int | None = None
    known: bool = False

    @property
    def opted_out(self) -> bool:
        return self.unsubscribed or self.bounced  # bounce_is_opt_out is on

    def row(self) -> dict:
        return {"contact_id": self.contact_id, "Email": self.email,
                "unsubscribed": self.unsubscribed, "hard_bounced": self.bounced,
                "updated_at": _stamp(self.updated_at).isoformat().replace("+00:00", "Z")}


@dataclass
class World:
    ledger_url: str
    on_exit: str
    margin: int  # tap-autopilot's safety margin, in simulated seconds
    retry_after_runs: int = 1
    skew: tuple[int, int] = (0, 0)  # Salesforce's and Autopilot's clocks against ours
    sf: dict[str, SfRecord] = field(default_factory=dict)
    ap: dict[str, ApContact] = field(default_factory=dict)  # by lower-cased address
    now: int = 100
    sf_state: dict | None = None  # the bookmarks Meltano saved for each tap
    ap_state: dict | None = None
    intents: dict[str, list[bool]] = field(default_factory=lambda: {p: [] for p in PEOPLE})
    excluded: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    serial: int = 0

    # the clocks

    def now_iso(self) -> str:
        return _stamp(self.now).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @property
    def sf_now(self) -> int:  # the systems' clocks may run a little off ours
        return self.now + self.skew[0]

    @property
    def ap_now(self) -> int:
        return self.now + self.skew[1]

    def tick(self, seconds: int = 1) -> int:
        self.now += seconds
        return self.now

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:04d}"

    # people editing their records

    def records_of(self, email: str) -> list[SfRecord | ApContact]:
        """The person's live records that hold consent, in a stable order."""
        found: list[SfRecord | ApContact] = sorted(
            (r for r in self.sf.values()
             if r.email.lower() == email and not r.deleted and r.converted_to is None),
            key=lambda r: r.id)
        contact = self.ap.get(email)
        return found + ([contact] if contact else [])

    def intend(self, email: str, before: bool, after: bool, record: SfRecord | ApContact) -> None:
        if before != after:
            self.intents[email].append(after)
            record.unread_opt_out = after
            record.unread_resubscribe = None if after else len(self.intents[email]) - 1

    def edit(self, step: tuple) -> None:
        kind, who = step[0], PEOPLE[step[1]]
        self.tick(3)
        live = self.records_of(who)
        sf_live = [r for r in live if isinstance(r, SfRecord)]
        if kind == "flip" and live:
            record = live[step[2] % len(live)]
            before = record.opted_out
            if isinstance(record, SfRecord):
                if record.opted_out == step[3]:
                    return  # ticking a ticked box is no act
                record.opted_out, record.modstamp = step[3], self.sf_now
            else:
                if record.unsubscribed == step[3]:
                    return
                record.unsubscribed, record.updated_at = step[3], self.ap_now
            self.intend(who, before, record.opted_out, record)
        elif kind == "touch" and live:  # an edit of another field: only the stamp moves
            record = live[step[2] % len(live)]
            # one stamp per record: the re-subscribe now looks as late as this edit
            if record.unread_resubscribe is not None \
                    and len(self.intents[who]) - 1 > record.unread_resubscribe:
                self.excluded.setdefault(who, TOUCHED_LATER)
            if isinstance(record, SfRecord):
                record.modstamp = self.sf_now
            else:
                record.updated_at = self.ap_now
        elif kind == "bounce" and who in self.ap and not self.ap[who].bounced:
            contact = self.ap[who]
            before = contact.opted_out
            contact.bounced, contact.updated_at = True, self.ap_now
            self.intend(who, before, contact.opted_out, contact)
        elif kind == "new" and step[2] == "autopilot":
            if who not in self.ap:  # a sign-up form, or an import with the box ticked
                self.ap[who] = ApContact(self.new_id("person_"), who, step[3], self.ap_now)
                self.intend(who, False, step[3], self.ap[who])
        elif kind == "new":
            spelling = who.upper() if step[4] else who
            record = SfRecord(self.new_id("00Q" if step[2] == "Lead" else "003"), step[2],
                              spelling, step[3], self.sf_now)
            self.sf[record.id] = record
            self.intend(who, False, step[3], record)  # R4: an unticked box is no opt-in
        elif kind == "delete" and sf_live:
            record = sf_live[step[2] % len(sf_live)]
            record.deleted, record.modstamp = True, self.sf_now
        elif kind == "select" and sf_live:  # a field the selection criteria read changed
            record = sf_live[step[2] % len(sf_live)]
            record.selected, record.modstamp = not record.selected, self.sf_now
        elif kind == "readdress" and sf_live:  # someone corrects the address to another's
            record = sf_live[step[2] % len(sf_live)]
            other = PEOPLE[(step[1] + 1) % len(PEOPLE)]
            if record.opted_out and record.unread_opt_out:
                self.excluded.setdefault(who, MOVED_AWAY)
            record.email, record.modstamp = other, self.sf_now
            # the record brings its opt-out to its new person (R4: new to them, it counts)
            self.intend(other, False, record.opted_out, record)
        elif kind == "convert":
            leads = [r for r in sf_live if r.object == "Lead"]
            if not leads:
                return
            lead = leads[step[2] % len(leads)]
            contacts = [r for r in sf_live if r.object == "Contact"]
            if step[3] and contacts:  # into the person's existing Contact, which keeps its box
                contact = contacts[0]
            else:  # into a new Contact, which copies the Lead's box
                contact = SfRecord(self.new_id("003"), "Contact", lead.email, lead.opted_out,
                                   self.sf_now, selected=lead.selected,
                                   unread_opt_out=lead.unread_opt_out)
                self.sf[contact.id] = contact
            lead.converted_to, lead.modstamp = contact.id, self.sf_now
        else:
            return
        self.log.append(f"t={self.now} {step}")

    # the taps

    def read_salesforce(self) -> tuple[list[dict], dict, list[SfRecord]]:
        """Rows changed since the bookmark (deleted ones too: queryAll); the bookmark's second
        is read again, its rows already emitted skipped, as tap-salesforce-optout does."""
        bookmark = (self.sf_state or {}).get("salesforce")
        rows = sorted((r for r in self.sf.values()
                       if bookmark is None or r.modstamp > bookmark["max"]
                       or (r.modstamp == bookmark["max"] and r.id not in bookmark["seen"])),
                      key=lambda r: (r.modstamp, r.id))
        kept = self.sf_state or {}  # a tap passes on the state it was given (the run's mark)
        if not rows:
            return [], {**kept, "salesforce": bookmark}, []
        newest = rows[-1].modstamp
        seen = [r.id for r in rows if r.modstamp == newest]
        if bookmark is not None and bookmark["max"] == newest:
            seen = sorted({*bookmark["seen"], *seen})
        return ([{"type": "RECORD", "stream": r.object, "record": r.row()} for r in rows],
                {**kept, "salesforce": {"max": newest, "seen": seen}}, rows)

    def read_autopilot(self) -> tuple[list[dict], dict, list[ApContact]]:
        """A full scan emitting contacts updated at or after the bookmark; the bookmark never
        passes the scan's start minus the safety margin, so recent contacts are read again."""
        since = (self.ap_state or {}).get("autopilot")
        rows = [c for c in self.ap.values() if since is None or c.updated_at >= since]
        newest = max((c.updated_at for c in rows), default=since)
        bookmark = since if newest is None else max(since or newest,
                                                    min(newest, self.now - self.margin))
        return ([{"type": "RECORD", "stream": "contacts", "record": c.row()} for c in rows],
                {**(self.ap_state or {}), "autopilot": bookmark}, rows)

    # one `meltano run`

    def run(self, direction: str, outcome: str = OK, seed: int = 0) -> int:
        """One run; returns how many records the mapper emitted."""
        self.tick(1)
        if direction == S2A:
            messages, state, read = self.read_salesforce()
        else:
            messages, state, read = self.read_autopilot()
        mapper = ConsentMapper(config={"direction": direction, "ledger_url": self.ledger_url,
                                       "on_exit": self.on_exit,
                                       "retry_after_runs": self.retry_after_runs})
        emitted: list = []
        mapper.write_message = emitted.append  # type: ignore[method-assign]
        for message in messages:
            assert not list(mapper.map_record_message(message))
        assert not list(mapper.map_state_message({"type": "STATE", "value": state}))
        self.tick(1)
        if outcome == KILL_BEFORE:
            with mock.patch.object(store.LedgerTransaction, "finish_run", _killed), \
                    pytest.raises(Killed):
                mapper.process_endofpipe()
            assert emitted == []
            self.log.append(f"t={self.now} run {direction} {outcome}: {len(read)} read")
            return 0
        mapper.process_endofpipe()
        for record in read:  # the ledger committed what this run read
            record.unread_opt_out, record.known = False, True
            record.unread_resubscribe = None
        records = [m for m in emitted if isinstance(m, RecordMessage)]
        assert isinstance(emitted[-1], StateMessage), "the tap's STATE must pass, last"
        passed = emitted[-1].value
        assert {**passed, "bookmarks": None} == {**state, "bookmarks": None}, \
            "the tap's STATE must pass unchanged, the run's mark beside it (run_marks.py)"
        self.tick(1)
        rng = random.Random(seed)
        landing = {OK: records, PARTIAL: [r for r in records if rng.random() < 0.5]}
        rejected = self.apply(direction, landing.get(outcome, []))
        if outcome == OK and not rejected:
            if direction == S2A:
                self.sf_state = passed
            else:
                self.ap_state = passed
        self.log.append(f"t={self.now} run {direction} {outcome}: {len(read)} read, sent "
                        + ", ".join(f"{m.stream} {m.record}" for m in records)
                        + (f"; {rejected} rejected" if rejected else ""))
        return len(records)

    # the targets

    def apply(self, direction: str, messages: list[RecordMessage]) -> int:
        rejected = 0
        for message in messages:
            if direction == S2A:
                self.apply_autopilot(message.record)
            else:
                rejected += self.apply_salesforce(message.stream, message.record)
        return rejected

    def apply_salesforce(self, stream: str, record: dict) -> int:
        """target-salesforce: by `Id` (a deleted record is rejected), or every live record whose
        match field equals the address, case-blind (those already equal are left alone)."""
        flag = "PersonHasOptedOutOfEmail" if stream == "Account" else "HasOptedOutOfEmail"
        value = record[flag]
        if "Id" in record:
            target = self.sf.get(record["Id"])
            if target is None or target.deleted or target.object != stream \
                    or target.converted_to is not None:
                return 1  # ENTITY_IS_DELETED, CANNOT_UPDATE_CONVERTED_LEAD: STATE held back
            targets = [target]
        else:
            match = str(record.get("Email") or record.get("PersonEmail")).lower()
            targets = [r for r in self.sf.values() if r.object == stream and not r.deleted
                       and r.converted_to is None and r.email.lower() == match
                       and r.opted_out != value]
        for target in targets:
            if target.opted_out and not value and target.unread_opt_out and target.known:
                self.excluded.setdefault(target.email.lower(), RESUBSCRIBE_RACE)
            target.opted_out, target.modstamp, target.unread_opt_out = value, self.sf_now, False
            target.unread_resubscribe = None
            target.known = True
        return 0

    def apply_autopilot(self, record: dict) -> None:
        """target-autopilot on Autopilot: upsert by address, case-blind, the first spelling
        kept; the stamp moves only when something changed; `_sdc_deleted_at` deletes."""
        email = record["Email"].strip().lower()
        contact = self.ap.get(email)
        if record.get("_sdc_deleted_at"):
            if contact is not None:
                if contact.opted_out and contact.unread_opt_out and contact.known:
                    self.excluded.setdefault(email, REMOVE_RACE)
                del self.ap[email]
            return
        if contact is None:
            self.ap[email] = ApContact(self.new_id("person_"), record["Email"].strip(),
                                       bool(record.get("unsubscribed")), self.ap_now, known=True)
            return
        if "unsubscribed" in record and record["unsubscribed"] != contact.unsubscribed:
            if contact.opted_out and not contact.bounced and contact.unread_opt_out \
                    and contact.known:
                self.excluded.setdefault(email, RESUBSCRIBE_RACE)
            contact.unsubscribed, contact.updated_at = record["unsubscribed"], self.ap_now
            contact.unread_opt_out, contact.unread_resubscribe = False, None
        contact.known = True

    # the end state

    def states(self, email: str) -> set[bool]:
        return {r.opted_out for r in self.records_of(email)}

    def agreed(self, email: str) -> bool | None:
        ledger = store.Ledger(self.ledger_url)
        with ledger.transaction(commit=False) as tx:
            return tx.person(email).agreed


def _killed(self: store.LedgerTransaction, run_id: int, summary: dict) -> None:
    raise Killed


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One SQLite ledger per test module, emptied before each example.

    Speed only: the ledger is migrated once (the engine kept per URL) and SQLite does not wait
    for the disk; every run still opens, leases, reads and commits it as the mapper does.
    """
    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'consent-ledger.db'}"
    real_pragmas = store._sqlite_pragmas

    def pragmas(dbapi_connection: object, record: object) -> None:
        real_pragmas(dbapi_connection, record)
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    with mock.patch.object(store, "_sqlite_pragmas", pragmas), \
            mock.patch.object(store, "open_engine", functools.lru_cache(maxsize=4)(
                store.open_engine)):
        logger = logging.getLogger("consent-mapper")
        level = logger.level
        logger.setLevel(logging.WARNING)  # a summary line per run is noise here
        try:
            yield url
        finally:
            logger.setLevel(level)


def _empty(url: str) -> None:
    engine = store.open_engine(url)
    with engine.begin() as c:
        for table in (schema.audit, schema.records, schema.people, schema.runs, schema.leases):
            c.execute(table.delete())


WEIGHTED = st.sampled_from([False, False, False, True])


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[SfRecord], list[ApContact], dict]:
    records, contacts = [], []
    for n, email in enumerate(PEOPLE):
        for i in range(draw(st.integers(0, 3))):
            obj = draw(st.sampled_from(["Lead", "Contact"]))
            records.append(SfRecord(f"{'00Q' if obj == 'Lead' else '003'}{n}{i}", obj,
                                    email.upper() if draw(WEIGHTED) else email, draw(st.booleans()),
                                    modstamp=draw(st.integers(0, 50)), deleted=draw(WEIGHTED),
                                    selected=not draw(WEIGHTED)))
        if draw(st.booleans()):
            spelling = email.capitalize() if draw(WEIGHTED) else email
            contacts.append(ApContact(f"person_{n}", spelling, draw(st.booleans()),
                                      draw(st.integers(0, 50)), bounced=draw(WEIGHTED)))
    skew = st.sampled_from([0, 0, -1, 1])
    return records, contacts, {"on_exit": draw(st.sampled_from(["keep", "remove"])),
                               "margin": draw(st.sampled_from([0, 10, 30])),
                               "retry_after_runs": draw(st.sampled_from([1, 1, 2])),
                               "skew": (draw(skew), draw(skew))}


who = st.integers(0, len(PEOPLE) - 1)
run_step = st.tuples(st.just("run"), st.sampled_from([S2A, A2S]),
                     st.sampled_from([OK, OK, OK, FAIL, PARTIAL, KILL_BEFORE, KILL_AFTER]),
                     st.integers(0, 2**16))
steps = st.lists(st.one_of(
    run_step, run_step,
    st.tuples(st.just("flip"), who, st.integers(0, 3), st.booleans()),
    st.tuples(st.just("flip"), who, st.integers(0, 3), st.booleans()),
    st.tuples(st.just("touch"), who, st.integers(0, 3)),
    st.tuples(st.just("bounce"), who),
    st.tuples(st.just("new"), who, st.sampled_from(["Lead", "Contact", "autopilot"]),
              st.booleans(), WEIGHTED),
    st.tuples(st.just("delete"), who, st.integers(0, 3)),
    st.tuples(st.just("select"), who, st.integers(0, 3)),
    st.tuples(st.just("readdress"), who, st.integers(0, 3)),
    st.tuples(st.just("convert"), who, st.integers(0, 3), st.booleans()),
    st.tuples(st.just("wait"), st.integers(3, 40)),
), max_size=16)


def _converge(world: World) -> bool:
    """Full rounds (Salesforce first, as consent-sync runs) until two in a row write nothing,
    and longer than the retry window: a lost write waits that many reads before it is sent
    again (R7)."""
    quiet = 0
    for _ in range(12):
        world.tick(5)
        quiet = quiet + 1 if world.run(S2A) + world.run(A2S) == 0 else 0
        if quiet == max(2, world.retry_after_runs + 1):
            return True
    return False


def _never_read_contact_opted_out() -> tuple[list[SfRecord], list[ApContact], dict]:
    return ([SfRecord("00Q00", "Lead", "a@x.io", False, modstamp=0)],
            [ApContact("person_0", "a@x.io", True, 0)],
            {"on_exit": "remove", "margin": 0, "retry_after_runs": 1, "skew": (0, 0)})


def _lead_opted_out_contact_never_read() -> tuple[list[SfRecord], list[ApContact], dict]:
    return ([SfRecord("00Q00", "Lead", "a@x.io", True, modstamp=0)],
            [ApContact("person_0", "a@x.io", False, 0)],
            {"on_exit": "keep", "margin": 0, "retry_after_runs": 1, "skew": (0, 0)})


EXAMPLES = int(os.environ.get("CONSENT_PROPERTY_EXAMPLES", "40"))


# derandomized: CI must not turn red on a new random draw; raise CONSENT_PROPERTY_EXAMPLES to
# explore further
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(initial=worlds(), plan=steps)
# found at 5,000 examples: the contact, never read, held the only opt-out; the Lead's deletion
# under on_exit=remove deleted the contact, and the opt-out with it (chaos trial stop21j 4)
@example(initial=_never_read_contact_opted_out(), plan=[("run", S2A, FAIL, 0), ("delete", 0, 0)])
@example(initial=_never_read_contact_opted_out(), plan=[("run", S2A, OK, 0), ("delete", 0, 0)])
# chaos trial stop24e 9: our opt-out to a contact no run had read never landed; the Lead then
# re-subscribed, the person opted out in Autopilot, and the re-subscribe was sent over it, blind
@example(initial=_lead_opted_out_contact_never_read(),
         plan=[("run", S2A, FAIL, 0), ("flip", 0, 0, False), ("flip", 0, 1, True),
               ("run", S2A, OK, 0)])
def test_any_history_converges_quietly_without_losing_an_opt_out(ledger_url, initial, plan):
    records, contacts, options = initial
    _empty(ledger_url)
    world = World(ledger_url, **options, sf={r.id: r for r in records},
                  ap={c.email.lower(): c for c in contacts})
    for record in (*records, *contacts):
        record.unread_opt_out = record.opted_out  # no run has read them yet
    for email in PEOPLE:  # what the systems held before the sync: R1, deleted records too (R8)
        if any(r.opted_out for r in records if r.email.lower() == email) \
                or any(c.opted_out for c in contacts if c.email.lower() == email):
            world.intents[email].append(True)
    with mock.patch.object(clock, "now_iso", world.now_iso):
        for step in plan:
            if step[0] == "run":
                world.run(*step[1:])
            elif step[0] == "wait":
                world.tick(step[1])
            else:
                world.edit(step)
        history = "\n".join(world.log)
        assert _converge(world), "the sync never went quiet:\n" + "\n".join(world.log)
        for email in PEOPLE:
            _check_person(world, email, history)
        # every pending write ended: confirmed, superseded or given up (issue 9, bug 2)
        with store.Ledger(ledger_url).transaction(commit=False) as tx:
            left = tx.pending()
        assert not left, f"writes pending after the sync went quiet: {left}\n{history}"


def _check_person(world: World, email: str, history: str) -> None:
    states, agreed, intents = world.states(email), world.agreed(email), world.intents[email]
    settled = "\n".join(world.log[len(history.splitlines()):])
    where = (f"{email} (on_exit={world.on_exit}, margin={world.margin}, retry_after_runs="
             f"{world.retry_after_runs}, skew={world.skew}) after\n{history}\n"
             f"then until quiet:\n{settled}")
    assert len(states) <= 1, f"{where}\nends with records in both states"
    if states:
        (out,) = states
        assert agreed == out, f"{where}\nledger agrees {agreed}, the records say {out}"
    else:
        out = bool(agreed)  # no live record left: the ledger keeps the consent (R8)
    if email in world.excluded:
        event(f"excluded: {world.excluded[email]}")
        if world.excluded[email] == MOVED_AWAY:
            return  # what the sync could see of this person's consent left with the record
        assert out or False in intents or True not in intents, f"{where}\nopted in unasked"
        return
    if intents and not intents[-1] and out:
        # allowed (an opt-out wins where the sync cannot tell), counted for the report
        event("last intent a re-subscribe, ended opted out")
    if intents and intents[-1]:
        assert out, f"{where}\nthe last thing asked for was an opt-out, and it was lost"
    if not out and True in intents:
        last_out = len(intents) - 1 - intents[::-1].index(True)
        assert False in intents[last_out + 1:], \
            f"{where}\nopted in though the last opt-out was never taken back"


def test_a_failed_re_subscribe_write_is_not_reverted_by_our_older_opt_out(ledger_url):
    """Scenario 12 through the mapper: our own earlier opt-out, read back while the newer
    re-subscribe write had failed, is not a new opt-out (bug 1 of issue 9)."""
    _empty(ledger_url)
    world = World(ledger_url, "keep", 0,
                  sf={"00Q1": SfRecord("00Q1", "Lead", "z@x.io", False, 0)},
                  ap={"z@x.io": ApContact("person_1", "z@x.io", False, 0)})
    with mock.patch.object(clock, "now_iso", world.now_iso):
        world.run(S2A)
        world.run(A2S)
        contact = world.ap["z@x.io"]
        world.tick(5)
        contact.unsubscribed, contact.updated_at = True, world.now
        assert world.run(A2S) == 1 and world.sf["00Q1"].opted_out
        world.tick(5)
        contact.unsubscribed, contact.updated_at = False, world.now
        assert world.run(A2S, FAIL) == 1 and world.sf["00Q1"].opted_out
        world.run(S2A)  # reads the Lead still showing our older opt-out
        assert world.agreed("z@x.io") is False
        assert _converge(world)
    assert world.states("z@x.io") == {False}


def test_a_re_subscribe_of_a_hard_bounced_address_settles(ledger_url):
    """Found at 4,235 examples: the address hard-bounces (opted out everywhere), then the person
    re-subscribes in Salesforce; Autopilot keeps the bounce, so the write can never show."""
    _empty(ledger_url)
    world = World(ledger_url, "keep", 0,
                  sf={"00Q1": SfRecord("00Q1", "Lead", "a@x.io", False, 0)},
                  ap={"a@x.io": ApContact("person_1", "a@x.io", False, 0)})
    with mock.patch.object(clock, "now_iso", world.now_iso):
        assert _converge(world)
        world.edit(("bounce", 0))
        assert _converge(world) and world.sf["00Q1"].opted_out
        world.edit(("flip", 0, 0, False))  # the Lead, re-subscribed
        assert _converge(world), "the sync never went quiet:\n" + "\n".join(world.log)
    assert len(world.states("a@x.io")) == 1
