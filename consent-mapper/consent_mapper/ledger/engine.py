"""The consent rules (CONSENT-RULES R1 to R7) as one pure function over one person.

It knows nothing of Singer, SQL or HTTP: it takes what the ledger remembers of a person and what one
run observed in the source system, and returns the new memory, the writes for the target system
and the audit events. Everything else in the mapper is plumbing around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

SALESFORCE, AUTOPILOT = "salesforce", "autopilot"
# A Salesforce "record" that stands for every record with one address, written by match on Email
# when the ledger knows none of the person's records (the Autopilot-to-Salesforce job alone).
BY_EMAIL = "by_email"


@dataclass(frozen=True)
class RecordKey:
    system: str  # SALESFORCE or AUTOPILOT
    object: str  # Lead, Contact, Account; "contact" in Autopilot
    record_id: str  # Salesforce Id; the normalized email for Autopilot contacts


@dataclass(frozen=True)
class RecordMemory:
    """What the ledger remembers of one record."""

    key: RecordKey
    observed: bool | None = None  # opt-out last read there; None: never read
    pending: bool | None = None  # value written there and not read back yet
    pending_run: int | None = None  # reads of the target system done when `pending` was sent
    live: bool = True  # False once deleted or out of the selection (R8)
    writable: bool = True  # False for a converted Lead: Salesforce refuses writes to it


@dataclass(frozen=True)
class Observation:
    """One record as the source system shows it in this run."""

    key: RecordKey
    opted_out: bool
    changed_at: str = ""  # ISO-8601 UTC of the source's modstamp; orders changes across runs
    live: bool = True
    writable: bool = True


@dataclass(frozen=True)
class Write:
    key: RecordKey
    opted_out: bool
    reason: str  # the rule that asked for it


@dataclass(frozen=True)
class AuditEvent:
    rule: str
    old: bool | None
    new: bool | None
    source: RecordKey | None
    detail: str
    targets: tuple[RecordKey, ...] = ()


@dataclass
class PersonOutcome:
    agreed: bool | None
    opted_out_at: str | None  # when the latest deliberate opt-out was made
    records: dict[RecordKey, RecordMemory]
    writes: list[Write] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    changes: int = 0
    echoes: int = 0
    retried: int = 0


def _classify(memory: RecordMemory | None, seen: Observation) -> str:
    """'new-out', 'new-in', 'echo', 'stale' (our write not landed yet), 'change' or 'same'."""
    pending = memory.pending if memory else None
    observed = memory.observed if memory else None
    if pending is not None:
        if seen.opted_out == pending:
            return "echo"
        if seen.opted_out:
            # our opt-in did not land, or the person opted out again: we cannot tell, so the
            # opt-out wins (an opt-out is never lost)
            return "new-out" if observed is None else "change"
        if observed is not None and not observed:
            return "stale"  # still shows the value from before our opt-out write: resend it
    if observed is None:
        return "new-out" if seen.opted_out else "new-in"
    return "change" if seen.opted_out != observed else "same"


def decide(
    agreed: bool | None,
    opted_out_at: str | None,
    records: dict[RecordKey, RecordMemory],
    observations: list[Observation],
    target_system: str,
    run: int,
    retry_after_runs: int = 1,
    resend_pending: bool = False,
) -> PersonOutcome:
    """Apply one run's observations of a person and say what to write to ``target_system``.

    ``opted_out_at`` is when the person's latest deliberate opt-out was made: a re-subscribe
    older than it, seen in a later run, was concurrent with it and loses (R3).

    ``run`` counts the runs that have read ``target_system`` so far: a pending write that
    ``retry_after_runs`` such reads did not see back was lost and is sent again (R7), and so is
    every pending write of a person when ``resend_pending`` (the source brought the person again:
    a replay after a failed or killed run, or a new change).
    """
    out = PersonOutcome(agreed=agreed, opted_out_at=opted_out_at, records=dict(records))
    opt_out_changes: list[Observation] = []
    opt_in_changes: list[Observation] = []
    echoed_outs: list[Observation] = []

    for seen in observations:
        memory = out.records.get(seen.key)
        kind = _classify(memory, seen)
        if kind == "echo":
            out.echoes += 1
            out.events.append(AuditEvent("R6", memory.observed if memory else None,
                                         seen.opted_out, seen.key, "our write read back"))
            pending, pending_run = None, None
            if seen.opted_out:
                echoed_outs.append(seen)
        elif kind == "stale":
            pending, pending_run = memory.pending, memory.pending_run
        else:
            pending = memory.pending if memory else None
            pending_run = memory.pending_run if memory else None
            if kind in ("new-out", "change") and seen.live:
                (opt_out_changes if seen.opted_out else opt_in_changes).append(seen)
                pending, pending_run = None, None  # a person's own change supersedes our write
        observed = memory.observed if kind == "stale" and memory else seen.opted_out
        out.records[seen.key] = RecordMemory(seen.key, observed, pending, pending_run, seen.live,
                                             seen.writable)
        if not seen.live and memory is not None and memory.live:
            out.events.append(AuditEvent("R8", out.agreed, out.agreed, seen.key,
                                         "record deleted or out of selection; consent kept"))

    if echoed_outs and out.agreed:
        # an opt-out we wrote, read back, may hide the person's own opt-out of that record made
        # after our write: the two cannot be told apart, and an opt-out is never lost, so a
        # re-subscribe must be newer than the read-back to win
        stamps = [o.changed_at for o in echoed_outs if o.changed_at]
        out.opted_out_at = max([t for t in (out.opted_out_at, *stamps) if t], default=None)
    new_agreed = out.agreed
    if out.agreed is None:
        # R1: first sight of this person; any opt-out among everything known wins
        known = [m.observed for m in out.records.values() if m.observed is not None]
        if known:
            new_agreed = any(known)
            source = next((o.key for o in observations if o.opted_out), None)
            out.events.append(AuditEvent("R1", None, new_agreed, source, "first sight of person"))
    elif opt_out_changes:
        new_agreed = True  # R3: among changes, opt-out wins; R4: new records count only when out
        rule = "R3" if opt_in_changes else ("R4" if _all_new(opt_out_changes, records) else "R2")
        if new_agreed != out.agreed:
            out.events.append(AuditEvent(rule, out.agreed, True, opt_out_changes[0].key,
                                         "opt-out made in the source system"))
    elif opt_in_changes:
        latest = max(opt_in_changes, key=lambda o: o.changed_at)
        if out.agreed and out.opted_out_at is not None and out.opted_out_at >= latest.changed_at:
            out.events.append(AuditEvent("R3", True, True, latest.key,
                                         "re-subscribe not newer than an opt-out elsewhere"))
        else:
            new_agreed = False  # R2: a deliberate re-subscribe travels
            if new_agreed != out.agreed:
                out.events.append(AuditEvent("R2", out.agreed, False, latest.key,
                                             "re-subscribe made in the source system"))
    if opt_out_changes or (out.agreed is None and new_agreed):
        times = [o.changed_at for o in observations if o.opted_out]
        out.opted_out_at = max([t for t in (out.opted_out_at, *times) if t is not None])
    out.changes = len(opt_out_changes) + len(opt_in_changes)
    out.agreed = new_agreed

    if out.agreed is not None:
        _plan_writes(out, target_system, run, retry_after_runs, resend_pending)
    return out


def _all_new(changes: list[Observation], records: dict[RecordKey, RecordMemory]) -> bool:
    return all(records.get(c.key) is None or records[c.key].observed is None for c in changes)


def _plan_writes(out: PersonOutcome, target_system: str, run: int, retry_after_runs: int,
                 resend_pending: bool) -> None:
    """R5: every live record of the person in the target system ends at the agreed state."""
    for key, memory in sorted(out.records.items(), key=lambda kv: kv[0].record_id):
        if key.system != target_system or not memory.live or not memory.writable:
            continue
        if memory.pending is not None:
            if memory.pending != out.agreed:
                pass  # the agreement moved on since our write: write the new value below
            elif resend_pending or (key.object != BY_EMAIL  # never read back: no R7 window
                                    and run - (memory.pending_run or 0) >= retry_after_runs):
                out.retried += 1
                out.writes.append(Write(key, out.agreed, "R7"))
                out.records[key] = replace(memory, pending_run=run)
                continue
            else:
                continue
        if memory.observed is None:
            # never read there: only an opt-out is safe to send (R4), never a re-subscribe,
            # unless the value there is our own opt-out, not yet read back
            if not out.agreed and memory.pending is None:
                continue
        elif memory.observed == out.agreed and memory.pending is None:
            continue
        out.writes.append(Write(key, out.agreed, "R5"))
        out.records[key] = replace(memory, pending=out.agreed, pending_run=run)
