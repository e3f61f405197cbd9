"""Two-way mapped fields: which value a person's records should hold, and which writes it takes.

Pure, like the consent rule book. Per person and mapped field the ledger keeps the *agreed*
value and the change that set it (its system's own modification time: Salesforce's
SystemModstamp, Autopilot's updated_at), and per record the value last observed there and the
value written and not yet read back.

- A reading that equals what the sync wrote there is an echo, not a change (R6).
- A reading that differs from the record's last observation and from the agreed value is a
  change. The later change wins: it becomes the agreed value when it was made after the change
  that set the agreed value; otherwise the agreed value stays and the record is written back.
  A change that meets a write of ours that did not land (refused as changed since) is a
  conflict: both systems changed, and the audit trail says which change was later.
- Empty values never travel (Autopilot cannot clear a custom field through its API); an empty
  record is filled with the agreed value.
- A field no Salesforce record of the person can take (read-only or formula) travels one way:
  a platform change to it is reported once and Salesforce's value is written back there.
- Every target record that does not hold the agreed value (nor has it pending) is written,
  with the value it was last seen holding as its expected value (compare-and-set in
  target-salesforce and target-autopilot: a record that moved on since is not overwritten).

Values are compared in their ledger encoding (JSON text of the canonical form).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from consent_mapper.field_values import decode, shown
from consent_mapper.rules import CRM, PLATFORM, AuditEvent, RecordKey

EMPTY = "null"  # the encoding of an empty value
CHANGED = "field: change travels"
LATER_WINS = "field: later change wins"
READ_ONLY = "field: read-only, one way"
RESENT = "field: written again"
SYSTEM_NAMES = {"salesforce": "Salesforce", "autopilot": "Autopilot"}


@dataclass(frozen=True, slots=True)
class FieldMemory:
    key: RecordKey
    observed: str | None = None  # None: never read with this field
    observed_at: str | None = None
    pending: str | None = None
    pending_at: str | None = None
    pending_run: int | None = None
    noted: str | None = None  # a platform value reported as not written (read-only field)


@dataclass(frozen=True, slots=True)
class Agreed:
    value: str
    changed_at: str
    source: str  # the system the change was made in


@dataclass(frozen=True, slots=True)
class Reading:
    key: RecordKey
    value: str
    at: str  # the record's modstamp, ISO-8601 UTC


@dataclass(frozen=True, slots=True)
class FieldWrite:
    key: RecordKey
    value: str
    expected: str | None  # the value the record must still hold; None: never read there


@dataclass(frozen=True)
class FieldContext:
    source: str  # the role this run reads: CRM or PLATFORM
    now: str
    reads: int  # finished reads of the target system
    targets: Sequence[RecordKey]  # the target system's records of the person
    read_only: frozenset[str] = frozenset()  # CRM objects on which the field is not updateable
    one_way: bool = False  # no CRM object takes the field
    retry_after_runs: int = 1


@dataclass
class FieldOutcome:
    agreed: Agreed | None
    records: dict[RecordKey, FieldMemory]
    writes: list[FieldWrite] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    echoes: int = 0
    conflicts: int = 0


def decide_field(name: str, agreed: Agreed | None, memories: Mapping[RecordKey, FieldMemory],
                 readings: Sequence[Reading], ctx: FieldContext) -> FieldOutcome:
    out = FieldOutcome(agreed, dict(memories))
    changes: list[tuple[Reading, bool]] = []  # the reading, and whether it met a lost write
    for reading in readings:
        memory = out.records.get(reading.key) or FieldMemory(reading.key)
        seen = replace(memory, observed=reading.value, observed_at=reading.at, pending=None,
                       pending_at=None, pending_run=None)
        out.records[reading.key] = seen
        if memory.pending is not None and reading.value == memory.pending:
            out.echoes += 1
            continue
        if reading.value == memory.observed or reading.value == EMPTY:
            continue  # nothing new (a write of ours that did not land is sent again below)
        if agreed is not None and reading.value == agreed.value:
            continue  # it caught up
        changes.append((reading, memory.pending is not None))
    if changes:
        _change(name, out, changes, ctx)
    _writes(name, out, ctx)
    return out


def _change(name: str, out: FieldOutcome, changes: list[tuple[Reading, bool]],
            ctx: FieldContext) -> None:
    reading, conflict = max(changes, key=lambda c: c[0].at)
    agreed = out.agreed
    system = _system(reading.key)
    if ctx.source == PLATFORM and ctx.one_way:
        memory = out.records[reading.key]
        if memory.noted != reading.value:  # said once, not every run
            out.records[reading.key] = replace(memory, noted=reading.value)
            out.events.append(AuditEvent(READ_ONLY, None, None, reading.key, (
                f"{name} changed in {system} to {shown(decode(reading.value))} at "
                f"{reading.at}: it is read-only or a formula field in Salesforce, so it is "
                f"not written there; Salesforce's value is written back to {system}")))
        return
    if agreed is not None and reading.at <= agreed.changed_at:
        out.conflicts += conflict
        out.events.append(AuditEvent(LATER_WINS, None, None, reading.key, (
            f"{name}: {system} has {shown(decode(reading.value))} (changed at {reading.at}), "
            f"{SYSTEM_NAMES.get(agreed.source, agreed.source)} had "
            f"{shown(decode(agreed.value))} (changed at {agreed.changed_at}): the later change "
            f"wins, {shown(decode(agreed.value))} stays and is written back to {system}")))
        return
    before = agreed
    out.agreed = Agreed(reading.value, reading.at, reading.key.system)
    if conflict and before is not None:
        out.conflicts += 1
        out.events.append(AuditEvent(LATER_WINS, None, None, reading.key, (
            f"{name}: both systems changed since the last run: {system} "
            f"{shown(decode(reading.value))} at {reading.at}, "
            f"{SYSTEM_NAMES.get(before.source, before.source)} {shown(decode(before.value))} "
            f"at {before.changed_at}: the later change ({system}) wins")))
    else:
        old = shown(decode(before.value)) if before is not None else "nothing agreed yet"
        out.events.append(AuditEvent(CHANGED, None, None, reading.key, (
            f"{name} changed in {system} from {old} to {shown(decode(reading.value))} at "
            f"{reading.at}")))


def _writes(name: str, out: FieldOutcome, ctx: FieldContext) -> None:
    agreed = out.agreed
    if agreed is None or agreed.value == EMPTY:
        return
    for key in ctx.targets:
        if key.role == CRM and key.object in ctx.read_only:
            continue
        memory = out.records.get(key)
        if memory is None and key.role == CRM:
            continue  # never read with this field: no value to expect, no basis to decide
        memory = memory or FieldMemory(key)
        live_pending = memory.pending is not None and not _lost(memory, ctx)
        holds = memory.pending if live_pending else memory.observed
        if holds == agreed.value:
            continue
        out.writes.append(FieldWrite(key, agreed.value, holds))  # compare-and-set
        out.records[key] = replace(memory, pending=agreed.value, pending_at=ctx.now,
                                   pending_run=ctx.reads)
    if out.writes:
        targets = tuple(w.key for w in out.writes)
        if out.events and out.events[-1].rule in (CHANGED, LATER_WINS):
            out.events[-1] = replace(out.events[-1], targets=targets)
        else:  # no change this run: a write not read back, or a record not holding the value
            out.events.append(AuditEvent(RESENT, None, None, None, (
                f"{name}: {shown(decode(agreed.value))} (agreed, changed in "
                f"{SYSTEM_NAMES.get(agreed.source, agreed.source)} at {agreed.changed_at}) "
                f"written where it is not held or was not read back"), targets))


def _lost(memory: FieldMemory, ctx: FieldContext) -> bool:
    """A write that a later read of the record's system did not see back."""
    return memory.pending_run is not None and \
        memory.pending_run <= ctx.reads - ctx.retry_after_runs


def _system(key: RecordKey) -> str:
    return SYSTEM_NAMES.get(key.system, key.system)
