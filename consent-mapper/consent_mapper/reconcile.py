"""One run's decisions against the ledger: plumbing around the rule book.

The mapper folds the run's input per address (observations for the rules, the profile for the
platform); at the end of the input this module walks every person the run saw plus every person
the ledger says needs a decision (R4, R7), loads their memory, asks :func:`rules.decide`, saves
the outcome and its audit trail, and shapes the records for the target.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

from consent_mapper import joined_lists, list_creates, rules
from consent_mapper.adapters import salesforce
from consent_mapper.companies import Companies
from consent_mapper.ledger.store import CHUNK, LedgerTransaction
from consent_mapper.pending_carry import carry_pending
from consent_mapper.profile import Profile, merge_docs
from consent_mapper.rules import CRM, DELETE, PLATFORM, UPSERT, AuditEvent, Context, Observation
from consent_mapper.run_input import PersonInput, RunInput

if TYPE_CHECKING:
    from consent_mapper.field_sync import FieldSession


@dataclass
class Outcome:
    email: str
    records: list[tuple[str, dict[str, Any]]]
    events: list[AuditEvent]


@dataclass
class Counts:
    people: int = 0
    opt_outs: int = 0  # people whose opt-out was written to the target (first sight included)
    re_subscribes: int = 0
    echoes: int = 0
    retried: int = 0
    records_written: int = 0
    profiles_updated: int = 0
    deleted: int = 0
    kept_on_exit: int = 0
    creates: int = 0  # CRM records asked for from the platform's lists (list_creates)

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class Reconciler:
    def __init__(self, tx: LedgerTransaction, run_id: int, ctx: Context, platform: ModuleType,
                 *, started_at: str, companies: Companies | None = None,
                 creates: list_creates.CreatePolicy | None = None) -> None:
        self.tx, self.run_id, self.ctx, self.started_at = tx, run_id, ctx, started_at
        self.companies = companies  # CRM-read runs: Accounts as their Contacts' company fields
        self.creates = creates
        self.platform = platform  # the platform's adapter module (adapters/<platform>.py)
        self.counts = Counts()
        self.fields: FieldSession | None = None  # two-way mapped fields (field_sync.py)

    def run(self, seen: RunInput) -> Iterator[Outcome]:
        """Decide for every person that needs it; the ledger is written per chunk (same tx)."""
        ctx = self.ctx
        self._attach_conversions(seen)
        target_system = ctx.platform if ctx.target == PLATFORM else salesforce.SYSTEM
        attention = self.tx.attention(ctx.target, target_system, ctx.reads,
                                      ctx.retry_after_runs, crm_read_run=ctx.source == CRM)
        if self.companies is not None:
            attention |= self.companies.prepare(self.tx)  # contacts of changed Accounts
        if self.fields is not None:
            attention |= self.fields.emails() | self.fields.attention()
        for chunk in seen.people_in_order(attention, CHUNK):
            inputs = seen.people(chunk)
            if self.companies is not None:
                self.companies.fill(self.tx, chunk, inputs)
            keys = [o.key for e in chunk for o in inputs[e].observations]
            memories = self.tx.load(chunk, keys)
            if self.fields is not None:
                self.fields.load(chunk)
            for email in chunk:
                outcome = self._person(memories[email], inputs[email], seen.adopted.get(email))
                if outcome.records or outcome.events:
                    yield outcome
            self.tx.flush()
            if self.fields is not None:
                self.fields.flush()

    def _attach_conversions(self, seen: RunInput) -> None:
        """A converted Lead is read-only: its opt-out counts for the person of its Contact."""
        for conversion in seen.conversions():
            email = seen.owner_of(conversion.contact) or self.tx.email_of(conversion.contact)
            if email is None and conversion.email is not None:
                # the Contact was never read: file it with the Lead's person until it is
                email = conversion.email
                seen.adopted.setdefault(email, []).append(conversion.contact)
            if email is not None:
                seen.observe(replace(conversion.lead, email=email))

    def _person(self, memory: rules.PersonMemory, seen: PersonInput,
                adopted: list[rules.RecordKey] | None) -> Outcome:
        email = memory.email
        before = replace(memory, records=dict(memory.records))
        observations = seen.observations
        for o in observations:
            if o.key not in memory.records and o.key in self.tx.elsewhere:
                # filed under another address (its email was edited, or a converted Lead now
                # counts for its Contact's person): new to this person, so its opt-out counts
                _, moved = self.tx.elsewhere[o.key]
                memory.records[o.key] = replace(moved, observed=None, observed_at=None,
                                                pending=None, pending_at=None, prior_at=None,
                                                pending_run=None)
        for key in adopted or ():
            memory.records.setdefault(key, rules.RecordMemory(key))
        profile = seen.profile if self.ctx.target == PLATFORM else None
        profile_doc = (self.platform.profile_record(profile)
                       if profile is not None and profile.contributed else None)
        if self.ctx.target == PLATFORM and memory.withheld_profile is not None:
            # held back while the contact's re-subscribe waited (R4): this run's is newer
            profile_doc = merge_docs(json.loads(memory.withheld_profile), profile_doc or {})
        digest = _digest(profile_doc) if profile_doc is not None else None

        if self.ctx.source == PLATFORM and observations and memory.profile_hash is not None:
            memory.profile_confirmed = True  # the contact we upserted was read back
            memory.lists_confirmed = True
        _adopt_legacy_spellings(memory, observations)
        observations = [self._with_state(memory, o) for o in observations]
        decision = rules.decide(memory, observations, self.ctx, digest,
                                spelling=seen.spelling)
        if self.ctx.target == PLATFORM:
            decision.memory.withheld_profile = (
                json.dumps(profile_doc, sort_keys=True, default=str)
                if decision.hold_profile and profile_doc is not None else None)
            records = self._to_platform(decision, profile_doc, profile, before)
        else:
            records = salesforce.write_records(email, decision.writes)
            made = list_creates.creates_for(decision, seen.profile, seen.spelling, self.creates,
                                            observations[0].key if observations else None)
            self.counts.creates += len(made)
            records += made
        self._count(decision, observations, records)
        self.tx.save(decision.memory, before)
        self.tx.audit(self.run_id, email, decision.events)
        events = decision.events
        if self.fields is not None:
            records, field_events = self.fields.person(email, decision, records)
            events = [*events, *field_events]
        records = carry_pending(records, decision.memory.records, self.ctx.platform)
        return Outcome(email, records, events)

    def _with_state(self, memory: rules.PersonMemory, seen: Observation) -> Observation:
        old = memory.records.get(seen.key)
        if seen.key.role != PLATFORM or old is None or not old.platform_state:
            return seen
        return replace(seen, platform_state=self.platform.merge_state(old.platform_state,
                                                                       seen.platform_state))

    def _to_platform(self, decision: rules.Decision, profile_doc: dict[str, Any] | None,
                     profile: Profile | None, before: rules.PersonMemory,
                     ) -> list[tuple[str, dict[str, Any]]]:
        adapter, memory = self.platform, decision.memory
        contact = decision.contact
        out: list[tuple[str, dict[str, Any]]] = []
        twins = rules.case_twins(memory)
        writes = {w.key: w for w in decision.writes if w.key.role == PLATFORM}
        for key, write in writes.items():
            if key != contact:
                out.append((adapter.CONTACTS, adapter.contact_record(
                    key, memory.records.get(key), None, write, key in twins)))
        if contact is not None:
            write = writes.get(contact)
            if decision.contact_action == DELETE:
                self.counts.deleted += 1
                out.append((adapter.CONTACTS, adapter.deletion(contact, self.started_at)))
            elif decision.contact_action == UPSERT and (decision.send_profile or write):
                doc = (adapter.profile_for(dict(profile_doc or {}), memory.agreed)
                       if decision.send_profile else {})
                if profile is not None and getattr(adapter, "OMIT_JOINED_LISTS", False):
                    doc = joined_lists.without_joined(
                        doc, joined_lists.already_joined(before, contact, profile))
                if doc.get("lists"):
                    memory.lists_confirmed = False  # until a read shows the upsert landed
                if profile is not None and self.ctx.on_exit_remove and profile.lists_to_leave():
                    doc["lists_remove"] = profile.lists_to_leave()
                self.counts.profiles_updated += decision.send_profile
                out.append((adapter.CONTACTS, adapter.contact_record(
                    contact, memory.records.get(contact), doc, write, contact in twins)))
            elif write is not None:
                out.append((adapter.CONTACTS, adapter.contact_record(
                    contact, memory.records.get(contact), None, write, contact in twins)))
            elif any(e.rule == "R8" and "on_exit=keep" in e.detail for e in decision.events):
                self.counts.kept_on_exit += 1
        for key, write in writes.items():
            if key in memory.records:  # what the platform adapter must remember of the write
                memory.records[key] = replace(memory.records[key], platform_state=(
                    adapter.remember_write(memory.records[key], write)))
        return out

    def _count(self, decision: rules.Decision, observations: list[Observation],
               records: list) -> None:
        c = self.counts
        c.people += 1 if observations else 0
        c.echoes += decision.echoes
        c.retried += decision.retried
        values = {w.opted_out for w in decision.writes}
        c.opt_outs += True in values
        c.re_subscribes += False in values
        c.records_written += len(records)


def _adopt_legacy_spellings(memory: rules.PersonMemory, observations: list[Observation]) -> None:
    """Release 0.1 filed platform contacts under the lower-cased address; a contact read under
    its own spelling takes over that memory."""
    seen = {o.key for o in observations}
    for o in observations:
        if o.key.role != PLATFORM or o.key in memory.records:
            continue
        legacy = replace(o.key, record_id=o.key.record_id.lower())
        if legacy != o.key and legacy in memory.records and legacy not in seen:
            memory.records[o.key] = replace(memory.records.pop(legacy), key=o.key)


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
