"""One run's decisions against the ledger: what the run saw, what the ledger knew, what to write.

The mapper folds the run's input per address (profile in :class:`~consent_mapper.decide.Person`,
consent in ledger observations); at the end of the input this module walks every person the run
saw plus every person the ledger says needs a write in the target system (R4, R7), asks the
decision engine, records the outcome and audit trail, and returns the records for the target.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from consent_mapper.decide import (
    ACCOUNT,
    CONTACT,
    LEAD,
    OPT_OUT_FIELD,
    Person,
    decide_person,
)
from consent_mapper.ledger.engine import (
    AUTOPILOT,
    BY_EMAIL,
    SALESFORCE,
    AuditEvent,
    Observation,
    RecordKey,
    RecordMemory,
    Write,
    decide,
)
from consent_mapper.ledger.store import CHUNK, LedgerTransaction, PersonMemory
from consent_mapper.shapes import CONTACTS, SALESFORCE_MATCH, autopilot_contact, autopilot_deletion


@dataclass(frozen=True)
class Conversion:
    """A converted Lead: its opt-out belongs to the Contact it became (CONSENT-RULES R5)."""

    lead: Observation
    contact_id: str
    email: str | None  # the Lead's own address, when valid


@dataclass
class RunInput:
    """What one run read from its source, folded per normalized address."""

    profiles: dict[str, Person] = field(default_factory=dict)
    observations: dict[str, list[Observation]] = field(default_factory=dict)
    conversions: list[Conversion] = field(default_factory=list)
    # records the run learnt of without reading them: a converted Lead's unknown Contact
    adopted: dict[str, list[RecordKey]] = field(default_factory=dict)
    # the address as the source spells it (lower-cased): Autopilot matches contacts on that
    # spelling, not on the normalized form (an IDN domain in Unicode is not its punycode)
    spellings: dict[str, str] = field(default_factory=dict)

    def observe(self, email: str, seen: Observation) -> None:
        self.observations.setdefault(email, []).append(seen)


@dataclass
class Outcome:
    """The records to send, per person, with the audit events behind them."""

    email: str
    records: list[tuple[str, dict[str, Any]]]
    events: list[AuditEvent]


@dataclass
class Counts:
    people: int = 0
    opt_outs: int = 0
    re_subscribes: int = 0
    echoes: int = 0
    retried: int = 0
    records_written: int = 0
    profiles_updated: int = 0
    deleted: int = 0
    kept_on_exit: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class Reconciler:
    def __init__(self, tx: LedgerTransaction, run_id: int, to_autopilot: bool, *,
                 on_exit_remove: bool, retry_after_runs: int, started_at: str) -> None:
        self.tx = tx
        self.run_id = run_id
        self.to_autopilot = to_autopilot
        self.target = AUTOPILOT if to_autopilot else SALESFORCE
        self.on_exit_remove = on_exit_remove
        self.retry_after_runs = retry_after_runs
        self.started_at = started_at
        self.counts = Counts()

    def run(self, seen: RunInput) -> Iterator[Outcome]:
        """Decide for every person that needs it; the ledger is written as we go (same tx)."""
        reads = self.tx.reads_of(self.target)
        self._attach_conversions(seen)
        emails = set(seen.observations)
        emails |= self.tx.attention(self.target, reads, self.retry_after_runs)
        ordered = sorted(emails)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start:start + CHUNK]
            keys = [o.key for e in chunk for o in seen.observations.get(e, ())]
            memories = self.tx.load(chunk, keys)
            for email in chunk:
                outcome = self._person(memories[email], seen, reads)
                if outcome.records or outcome.events:
                    yield outcome

    def _attach_conversions(self, seen: RunInput) -> None:
        """A converted Lead is read-only: its opt-out counts for the person of its Contact."""
        if not seen.conversions:
            return
        contact_owner = {o.key.record_id: email for email, obs in seen.observations.items()
                         for o in obs if o.key.object == CONTACT}
        for conversion in seen.conversions:
            contact = RecordKey(SALESFORCE, CONTACT, conversion.contact_id)
            email = contact_owner.get(conversion.contact_id) or self.tx.email_of(contact)
            if email is None and conversion.email is not None:
                # the Contact was never read: file it with the Lead's person until it is
                email = conversion.email
                seen.adopted.setdefault(email, []).append(contact)
            if email is not None:
                seen.observe(email, conversion.lead)

    def _person(self, memory: PersonMemory, seen: RunInput, reads: int) -> Outcome:
        email = memory.email
        before = replace(memory, records=dict(memory.records))
        observations = seen.observations.get(email, [])
        for o in observations:
            if o.key not in memory.records and o.key in self.tx.elsewhere:
                # filed under another address (its email was edited, or a converted Lead now
                # counts for its Contact's person): new to this person, so its opt-out counts
                memory.records[o.key] = replace(self.tx.elsewhere[o.key], observed=None,
                                                pending=None, pending_run=None)
        for key in seen.adopted.get(email, ()):
            memory.records.setdefault(key, RecordMemory(key))
        self._prepare_target_records(memory, observations, seen.spellings.get(email))

        result = decide(memory.agreed, memory.opted_out_at, memory.records, observations,
                        self.target, reads, self.retry_after_runs,
                        resend_pending=bool(observations))
        old_agreed = memory.agreed
        memory.agreed, memory.opted_out_at = result.agreed, result.opted_out_at
        memory.records = result.records
        self.counts.people += 1 if observations else 0
        self.counts.echoes += result.echoes
        self.counts.retried += result.retried
        if old_agreed is not None and result.agreed != old_agreed:
            if result.agreed:
                self.counts.opt_outs += 1
            else:
                self.counts.re_subscribes += 1
        events = list(result.events)
        if self.to_autopilot:
            records = self._to_autopilot(memory, seen.profiles.get(email), result.writes, events,
                                         seen.spellings.get(email))
        else:
            records = self._to_salesforce(email, result.writes)
        if result.writes:
            events.append(AuditEvent(
                _rule_of(result.writes), old_agreed, result.agreed, _source(observations),
                f"write {self.target}: opted_out={result.agreed}",
                tuple(w.key for w in result.writes)))
        self.tx.save(memory, before)
        self.tx.audit(self.run_id, email, events)
        self.counts.records_written += len(records)
        return Outcome(email, records, events)

    def _prepare_target_records(self, memory: PersonMemory, observations: list[Observation],
                                spelling: str | None) -> None:
        email = memory.email
        if self.to_autopilot:
            live_sf = _live_sf(memory.records, observations)
            contact = _main_contact_key(memory, spelling)
            if live_sf and contact not in memory.records:
                # the contact the sync keeps for every person with a live CRM record
                memory.records[contact] = RecordMemory(contact)
            return
        if observations and memory.profile_hash is not None:
            memory.profile_confirmed = True  # the contact we upserted was read back
        by_email = RecordKey(SALESFORCE, BY_EMAIL, email)
        known = any(k.system == SALESFORCE and k.object != BY_EMAIL for k in memory.records)
        if known:
            memory.records.pop(by_email, None)  # real records took over
        elif observations and by_email not in memory.records:
            memory.records[by_email] = RecordMemory(by_email)

    def _to_autopilot(self, memory: PersonMemory, profile: Person | None, writes: list[Write],
                      events: list[AuditEvent],
                      spelling: str | None) -> list[tuple[str, dict[str, Any]]]:
        contact = _main_contact_key(memory, spelling)
        # the person's other Autopilot contacts (another spelling of the address): R5
        others = [(CONTACTS, {"Email": w.key.record_id, "unsubscribed": w.opted_out})
                  for w in writes if w.key.system == AUTOPILOT and w.key != contact]
        if contact not in memory.records:
            return others
        return others + self._main_contact(memory, contact, profile, writes, events)

    def _main_contact(self, memory: PersonMemory, contact: RecordKey, profile: Person | None,
                      writes: list[Write],
                      events: list[AuditEvent]) -> list[tuple[str, dict[str, Any]]]:
        write = next((w for w in writes if w.key == contact), None)
        if not _live_sf(memory.records, []):
            # every CRM record of the person was deleted or left the selection (R8)
            if profile is None:
                return []
            decision = decide_person(profile, self.on_exit_remove, "Salesforce")
            events.extend(AuditEvent(e.rule, memory.agreed, memory.agreed, None, e.detail)
                          for e in decision.events)
            if not self.on_exit_remove:
                self.counts.kept_on_exit += 1
                return []
            self.counts.deleted += 1
            del memory.records[contact]  # re-created later, it is born opted out (R4)
            memory.profile_hash = None
            return [(CONTACTS, autopilot_deletion(contact.record_id, self.started_at))]
        record: dict[str, Any] = {"Email": memory.email}
        if profile is not None:
            decision = decide_person(profile, self.on_exit_remove, "Salesforce")
            record = autopilot_contact(decision)
            record["Email"] = contact.record_id
            record.pop("unsubscribed", None)
            digest = _digest(record)
            # an unconfirmed profile is sent again: the run that sent it may have failed
            changed = digest != memory.profile_hash or not memory.profile_confirmed
            if not changed and write is None:
                return []
            if changed:
                self.counts.profiles_updated += 1
            memory.profile_hash, memory.profile_confirmed = digest, False
        elif write is None:
            return []
        if write is not None:
            record["unsubscribed"] = write.opted_out
        return [(CONTACTS, record)]

    def _to_salesforce(self, email: str, writes: list[Write]) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for write in writes:
            if write.key.object == BY_EMAIL:
                out.extend((stream, {match: email, flag: write.opted_out})
                           for stream, (match, flag) in SALESFORCE_MATCH.items())
            elif write.key.object in (LEAD, CONTACT, ACCOUNT):
                out.append((write.key.object, {"Id": write.key.record_id,
                                               OPT_OUT_FIELD[write.key.object]: write.opted_out}))
        return out


def _main_contact_key(memory: PersonMemory, spelling: str | None) -> RecordKey:
    """The Autopilot contact the sync writes the person's profile to: one it knows already
    (under the normalized address first), else the source's spelling of the address."""
    known = sorted((k for k in memory.records if k.system == AUTOPILOT),
                   key=lambda k: k.record_id)
    normalized = RecordKey(AUTOPILOT, "contact", memory.email)
    if normalized in known:
        return normalized
    if known:
        return known[0]
    return RecordKey(AUTOPILOT, "contact", spelling or memory.email)


def _live_sf(memory: dict[RecordKey, RecordMemory], observations: list[Observation]) -> bool:
    live = {k: m.live for k, m in memory.items() if k.system == SALESFORCE and m.writable}
    for o in observations:
        if o.key.system == SALESFORCE and o.writable:
            live[o.key] = o.live
    return any(live.values())


def _rule_of(writes: list[Write]) -> str:
    reasons = {w.reason for w in writes}
    return "R7" if reasons == {"R7"} else "R5"


def _source(observations: list[Observation]) -> RecordKey | None:
    return observations[0].key if observations else None


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
