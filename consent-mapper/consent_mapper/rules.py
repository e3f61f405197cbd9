"""The consent rule book: every consent decision of CONSENT-RULES (R1 to R10), in one module.

Pure: no Singer, no SQL, no HTTP, no logging. It speaks of the CRM and the marketing platform
(roles), never of one product: a platform is an adapter that turns its contacts into
:class:`Observation` values and the writes decided here into its own records.

:func:`decide` takes what the ledger remembers of one person and what one run observed of them
in the source system, and returns the new memory, the consent writes for the target system, what
happens to the person's platform contact (R8), and the audit events (R11).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from consent_mapper.addresses import InvalidEmail, normalize_email

CRM, PLATFORM = "crm", "platform"
# A CRM "record" that stands for every CRM record with one address: written by match on the
# address while the sync has never read the CRM (the platform-to-CRM job run before any other).
BY_EMAIL = "by_email"
# Our clock and the source's modstamps may disagree by this much; inside it, a record may have
# changed after our write, so the ambiguous reading (an opt-out wins) applies.
CLOCK_MARGIN = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class RecordKey:
    role: str  # CRM or PLATFORM
    system: str  # the product: "salesforce", "autopilot", "activecampaign"
    object: str  # Lead, Contact, Account; "contact" on a platform; BY_EMAIL
    record_id: str  # the CRM Id; on a platform the address as the platform spells it

    def __str__(self) -> str:
        return f"{self.system} {self.object} {self.record_id}"


@dataclass(frozen=True, slots=True)
class RecordMemory:
    """What the ledger remembers of one record."""

    key: RecordKey
    observed: bool | None = None  # opt-out last read there; None: never read
    # the source's modstamp of that reading; on a record never read whose re-subscribe was held
    # back (R4), the time of that re-subscribe: an opt-out read there older than it lost to it
    observed_at: str | None = None
    pending: bool | None = None  # newest value written there and not read back yet
    pending_at: str | None = None  # when the sync decided that write (its own clock)
    prior_at: str | None = None  # an older write of the other value, not read back either
    # reads of that system finished when `pending` was sent; kept on a record whose
    # re-subscribe is held (R4), from the opt-out sent to it
    pending_run: int | None = None
    live: bool = True  # False once deleted (R8)
    selected: bool = True  # False once out of the selection criteria (R5, R8)
    writable: bool = True  # False for a converted Lead: the CRM refuses writes to it
    native_id: str | None = None  # the platform's own id of a contact, once read
    platform_state: str | None = None  # the platform adapter's notes; the rules never read it
    # a platform contact whose removal waits (R8): reads of the platform finished when its
    # person's last CRM record left; it waits for one more, which sees an opt-out made there
    exit_read: int | None = None
    # a platform contact the sync deleted: the run that sent the deletion, until a later run's
    # input STATE shows the target wrote that run's output
    deleted_run: int | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """One source record as one run saw it: the only shape the rules read."""

    key: RecordKey
    email: str  # the person: the normalized address
    opted_out: bool  # the record's own opt-out flag
    bounced: bool = False  # a hard bounce on the platform
    changed_at: str = ""  # the source's modstamp, ISO-8601 UTC
    live: bool = True  # False: deleted
    selected: bool = True  # False: out of the selection criteria
    writable: bool = True
    why: str = "opt-out flag"  # the source field behind `opted_out`
    native_id: str | None = None
    platform_state: str | None = None  # passed through to the record's memory
    # False: the record says nothing about consent (an ActiveCampaign contact on no list). It
    # then only confirms our opt-out written there (nobody can mail it), and changes nothing
    signal: bool = True


@dataclass(frozen=True, slots=True)
class Write:
    key: RecordKey
    opted_out: bool
    rule: str  # the rule that asked for it


@dataclass(frozen=True, slots=True)
class AuditEvent:
    rule: str
    old: bool | None
    new: bool | None
    source: RecordKey | None
    detail: str
    targets: tuple[RecordKey, ...] = ()


@dataclass
class PersonMemory:
    """Everything the ledger holds about one address."""

    email: str
    agreed: bool | None = None  # opted out; None until first seen with a state
    opted_out_at: str | None = None  # when the latest deliberate opt-out was made
    profile_hash: str | None = None  # last profile sent to the platform contact
    profile_confirmed: bool = False  # that contact was read back since
    lists_confirmed: bool = False  # every profile sent with lists was read back since
    # the profile held back from the main contact while its re-subscribe waits for the
    # contact's first read (R4); the plumbing's document, opaque here
    withheld_profile: str | None = None
    records: dict[RecordKey, RecordMemory] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """One run, as the rules need to know it."""

    source: str  # role read in this run: CRM or PLATFORM
    platform: str  # the platform of this job ("autopilot", ...)
    now: str  # our clock, ISO-8601 UTC: stamps the writes decided now
    reads: int  # finished reads of the target system: the clock of R7's retry window
    crm_read: bool  # the CRM was ever read in full (a by-address write is no longer needed)
    retry_after_runs: int = 1
    bounce_is_opt_out: bool = True
    on_exit_remove: bool = False
    # False where the platform can unsubscribe a contact by its id but re-subscribe only by
    # address, which reaches the older of two contacts whose addresses differ only in case
    resubscribes_case_twins: bool = True
    run: int = 0  # this run's id in the ledger
    # the newest run of this direction whose output the target is known to have written (its
    # STATE came back in this run's input); None: none known
    written_run: int | None = None

    @property
    def target(self) -> str:
        return PLATFORM if self.source == CRM else CRM


UPSERT, DELETE, NONE = "upsert", "delete", "none"


@dataclass
class Decision:
    memory: PersonMemory
    writes: list[Write] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    # the person's main platform contact (CRM-to-platform runs): what to do with it
    contact: RecordKey | None = None
    contact_action: str = NONE
    send_profile: bool = False
    # the profile is held back: the contact's re-subscribe waits for its first read (R4)
    hold_profile: bool = False
    opt_outs: int = 0
    re_subscribes: int = 0
    echoes: int = 0
    retried: int = 0
    resubscribed_at: str | None = None  # the source's time of a re-subscribe decided now (R2)


class SkipReason(StrEnum):
    NO_EMAIL = "no_email"  # R10
    INVALID_EMAIL = "invalid_email"  # R10
    CONVERTED_LEAD = "converted_lead"  # R5: the Contact it became carries the person
    PERSON_ACCOUNT_CONTACT = "person_account_contact"  # R9: the Account carries the person
    BUSINESS_ACCOUNT = "business_account"  # a company, not a person


@dataclass(frozen=True, slots=True)
class Skip:
    reason: SkipReason
    source: RecordKey
    detail: str = ""


def address_of(raw: object, source: RecordKey) -> str | Skip:
    """R10: the person a record belongs to, or why it has none (skipped, counted, reported)."""
    try:
        return normalize_email(raw)
    except InvalidEmail as exc:
        missing = raw is None or (isinstance(raw, str) and not raw.strip())
        reason = SkipReason.NO_EMAIL if missing else SkipReason.INVALID_EMAIL
        return Skip(reason, source, exc.reason if missing else f"{raw!r}: {exc.reason}")


# R9: a Person Account is one person on the platform, never a company: its consent and email
# travel on the person's contact, and no company field is ever filled from it
PERSON_ACCOUNT_STRIPPED = frozenset({"Company"})


def person_account_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """R9: the platform fields of a Person Account's person, company fields stripped."""
    return {k: v for k, v in fields.items() if k not in PERSON_ACCOUNT_STRIPPED}


def opted_out(seen: Observation, ctx: Context) -> tuple[bool, str]:
    """The record's consent and the reason: its flag, or a hard bounce (bounce_is_opt_out)."""
    if seen.opted_out:
        return True, seen.why
    if seen.bounced and ctx.bounce_is_opt_out:
        return True, "hard bounce (bounce_is_opt_out is on)"
    return False, seen.why


def _stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def classify(memory: RecordMemory | None, value: bool, changed_at: str) -> str:
    """What one reading of a record means against the ledger's memory of it (R2, R4, R6, R7).

    'new-out' / 'new-in': never read, nor written; 'echo': our newest write read back;
    'echo-prior': an older write of ours read back, the newest not landed yet; 'stale': the
    record still shows what it had before our write; 'change': changed by someone else;
    'same': no change; 'older-out': the first reading of a record whose re-subscribe was held
    back shows an opt-out made before that re-subscribe (ours, or the person's own before they
    re-subscribed): the later change, the re-subscribe, wins (R3).
    """
    m = memory
    if m is None or (m.observed is None and m.pending is None):
        if value and m is not None and m.observed_at is not None:
            # two systems' own times, compared as R3 compares them: a tie goes to the opt-out
            # (CLOCK_MARGIN is for our clock against theirs; here it lost re-subscribes made
            # within two seconds of our opt-out landing, chaos stop25d 5 again)
            stamp, held = _stamp(changed_at), _stamp(m.observed_at)
            if stamp is not None and held is not None and stamp < held:
                return "older-out"
        return "new-out" if value else "new-in"
    stamp, seen_at = _stamp(changed_at), _stamp(m.observed_at)
    if stamp is not None and seen_at is not None and stamp < seen_at:
        # older than what we already read there (a replayed or concurrent read)
        return "same" if m.pending is None else "stale"
    if m.pending is not None:
        if value == m.pending:
            return "echo"
        sent, prior = _stamp(m.pending_at), _stamp(m.prior_at)
        if stamp is not None and sent is not None and stamp < sent - CLOCK_MARGIN:
            # untouched since before our newest write: that write has not landed (yet)
            if prior is not None and stamp >= prior - CLOCK_MARGIN:
                return "echo-prior"
            if m.observed is None or value == m.observed:
                return "stale"
            return "change"  # changed after our last reading but before our write
        if stamp is not None and seen_at is not None and stamp == seen_at \
                and value == m.observed:
            return "stale"
        # touched after our write was sent, yet not our value: our write was overwritten or
        # never landed while something else changed. An opt-out read there is never lost; an
        # opt-in read over our opt-out cannot be told from our write not landing, so the
        # opt-out is sent again (R7)
        if value:
            return "change" if m.observed is not None else "new-out"
        return "stale"
    if value == m.observed:
        return "same"
    return "change"


def decide(memory: PersonMemory, observations: list[Observation], ctx: Context,
           profile_digest: str | None = None, spelling: str | None = None) -> Decision:
    """Apply one run's observations of a person; say what to write to the target system.

    ``profile_digest`` names the profile this run would send the platform contact;
    ``spelling`` is the address as the CRM spells it, for a contact created now.
    """
    records = dict(memory.records)
    new = replace(memory, records=records)
    out = Decision(new)
    changes_out: list[tuple[Observation, str]] = []
    changes_in: list[Observation] = []
    echoed_outs: list[Observation] = []
    first_sight = memory.agreed is None
    had_live_crm = _has_live_selected_crm(records)
    _take_over_by_email(records, observations, ctx, out)

    for seen in observations:
        old = records.get(seen.key)
        if old is not None and old.key.role == PLATFORM and not old.live:
            old = None  # a contact the sync deleted (R8), read again: someone created it anew
        if not seen.signal:
            _without_signal(out, records, old, seen)
            continue
        value, why = opted_out(seen, ctx)
        kind = classify(old, value, seen.changed_at)
        if kind in ("stale", "echo-prior") and value and seen.bounced and not seen.opted_out \
                and ctx.bounce_is_opt_out and old is not None and old.pending is False:
            kind = "change"  # a hard bounce: no opt-in written by the sync can undo it
        pending = old.pending if old else None
        pending_at = old.pending_at if old else None
        prior_at = old.prior_at if old else None
        pending_run = old.pending_run if old else None
        observed, observed_at = value, seen.changed_at or None
        if kind == "echo":
            out.echoes += 1
            out.events.append(AuditEvent("R6", old.observed if old else None, value, seen.key,
                                         "our write read back: a confirmation, not a change"))
            pending = pending_at = prior_at = pending_run = None
            if value:
                echoed_outs.append(seen)
        elif kind == "echo-prior":
            out.events.append(AuditEvent("R6", old.observed if old else None, value, seen.key,
                                         "an older write of ours read back; the newer one is "
                                         "sent again"))
            prior_at = None
        elif kind == "older-out":
            out.events.append(AuditEvent(
                "R3", memory.agreed, memory.agreed, seen.key,
                "opt-out read there older than the re-subscribe held back for this record "
                f"({seen.changed_at} before {old.observed_at if old else '?'}): the later "
                "change wins, and the re-subscribe is sent now that a read has shown it"))
        elif kind == "stale":
            observed = old.observed if old and old.observed is not None else observed
            observed_at = old.observed_at if old and old.observed is not None else observed_at
        elif kind in ("new-out", "change"):
            if value:
                changes_out.append((seen, why))  # R8: a deleted record's opt-out counts too
            elif seen.live:
                changes_in.append(seen)
            if seen.live:
                # a person's own change supersedes our unconfirmed write
                pending = pending_at = prior_at = pending_run = None
        if pending is None:  # what the write's fields say ends with it
            pending_at = prior_at = pending_run = None
        if pending is not None and not (seen.live and seen.writable):
            # deleted or converted: the system refuses writes to it, so ours ends here
            out.events.append(AuditEvent(
                "R7", memory.agreed, memory.agreed, seen.key,
                "write given up: the record was deleted" if not seen.live else
                "write given up: the record is a converted Lead; its Contact carries it"))
            pending = pending_at = prior_at = pending_run = None
        if old is not None and old.live and not seen.live:
            out.events.append(AuditEvent("R8", memory.agreed, memory.agreed, seen.key,
                                         "record deleted: forgotten, its consent kept"))
        elif old is not None and old.selected and not seen.selected and seen.live:
            out.events.append(AuditEvent("R8", memory.agreed, memory.agreed, seen.key,
                                         "record left the selection criteria; consent kept"))
        # a platform contact's `selected` is the sync's own mark (a removal waiting, R8)
        selected = old.selected if old is not None and seen.key.role == PLATFORM \
            else seen.selected
        records[seen.key] = RecordMemory(
            seen.key, observed, observed_at, pending, pending_at, prior_at, pending_run,
            seen.live, selected, seen.writable,
            seen.native_id or (old.native_id if old else None),
            seen.platform_state or (old.platform_state if old else None),
            old.exit_read if old is not None and seen.key.role == PLATFORM else None)

    if echoed_outs and memory.agreed:
        # an opt-out we wrote, read back, may hide the person's own opt-out of that record made
        # after our write; they cannot be told apart, so a re-subscribe must be newer (R3)
        stamps = [o.changed_at for o in echoed_outs if o.changed_at]
        new.opted_out_at = max([t for t in (new.opted_out_at, *stamps) if t], default=None)

    agreed = new.agreed
    if first_sight:
        agreed = _first_sight(records, observations, changes_out, ctx, out)
    elif changes_out:
        agreed = True
        seen, why = changes_out[0]
        if not memory.agreed:
            rule = ("R3" if changes_in else
                    "R8" if not seen.live else
                    "R4" if all(_never_read(memory.records.get(o.key)) for o, _ in changes_out)
                    else "R2")
            detail = _opt_out_detail(rule, seen, why, changes_in)
            out.events.append(AuditEvent(rule, memory.agreed, True, seen.key, detail))
            out.opt_outs += 1
    elif changes_in:
        latest = max(changes_in, key=lambda o: o.changed_at)
        if memory.agreed and new.opted_out_at is not None \
                and new.opted_out_at >= latest.changed_at:
            out.events.append(AuditEvent("R3", True, True, latest.key,
                                         "re-subscribe not newer than the latest opt-out: "
                                         "opt-out wins"))
        elif memory.agreed:
            agreed = False  # R2: a deliberate re-subscribe travels
            out.resubscribed_at = latest.changed_at or None
            out.events.append(AuditEvent("R2", True, False, latest.key,
                                         f"re-subscribe made in {latest.key.system} "
                                         f"{latest.key.object}"))
            out.re_subscribes += 1
    if changes_out or (first_sight and agreed):
        times = [o.changed_at for o, _ in changes_out if o.changed_at]
        times += [o.changed_at for o in observations if opted_out(o, ctx)[0] and o.changed_at]
        new.opted_out_at = max([t for t in (new.opted_out_at, *times) if t], default=None)
    new.agreed = agreed

    if ctx.target == PLATFORM:
        _platform_contact(out, observations, had_live_crm, profile_digest, spelling, ctx)
    if agreed is not None:
        _plan_writes(out, ctx, observed=bool(observations))
    if ctx.target == PLATFORM:
        _hold_profile(out, memory, ctx)
    if out.writes:
        out.events.append(AuditEvent(
            "R7" if {w.rule for w in out.writes} == {"R7"} else "R5", memory.agreed, agreed,
            observations[0].key if observations else None,
            f"write {ctx.target} {'opted out' if agreed else 'opted in'}",
            tuple(w.key for w in out.writes)))
    return out


def _without_signal(out: Decision, records: dict[RecordKey, RecordMemory],
                    old: RecordMemory | None, seen: Observation) -> None:
    """A record that says nothing about consent confirms our opt-out, and is otherwise kept as
    the ledger knew it (its ids and the adapter's notes refreshed)."""
    if old is None:
        records[seen.key] = RecordMemory(seen.key, native_id=seen.native_id,
                                         platform_state=seen.platform_state)
        return
    if old.pending is True:
        out.echoes += 1
        out.events.append(AuditEvent("R6", old.observed, True, seen.key,
                                     "our opt-out read back: the contact is on no list"))
        old = replace(old, observed=True, observed_at=seen.changed_at or None, pending=None,
                      pending_at=None, prior_at=None, pending_run=None)
    records[seen.key] = replace(old, native_id=seen.native_id or old.native_id,
                                platform_state=seen.platform_state or old.platform_state)


def _first_sight(records: dict[RecordKey, RecordMemory], observations: list[Observation],
                 changes_out: list[tuple[Observation, str]], ctx: Context,
                 out: Decision) -> bool | None:
    """R1: a person seen for the first time is opted out if any record of theirs is."""
    known = [m.observed for m in records.values() if m.observed is not None]
    if not known:
        return None
    agreed = any(known)
    if agreed and changes_out:
        seen, why = changes_out[0]
        detail = (f"first sight of the person: {why} on {seen.key}"
                  + (" (already deleted: its opt-out still counts, R8)" if not seen.live
                     else ""))
        out.events.append(AuditEvent("R1", None, True, seen.key, detail))
    else:
        source = next((o.key for o in observations), None)
        out.events.append(AuditEvent("R1", None, agreed, source,
                                     "first sight of the person: "
                                     + ("an opt-out is known" if agreed else "no opt-out")))
    return agreed


def _opt_out_detail(rule: str, seen: Observation, why: str, changes_in: list) -> str:
    if rule == "R3":
        return (f"records disagree, opt-out wins: {why} on {seen.key} over the re-subscribe "
                f"of {changes_in[0].key}")
    if rule == "R8":
        return f"opt-out of a deleted record counts ({why} on {seen.key})"
    if rule == "R4":
        return f"a new record is opted out ({why} on {seen.key})"
    if "bounce" in why:
        return f"hard bounce on {seen.key} is an opt-out (setting bounce_is_opt_out)"
    return f"opt-out made in {seen.key.system} ({why} on {seen.key})"


def _never_read(memory: RecordMemory | None) -> bool:
    return memory is None or memory.observed is None


def _has_live_selected_crm(records: dict[RecordKey, RecordMemory]) -> bool:
    return any(k.role == CRM and k.object != BY_EMAIL and m.live and m.selected and m.writable
               for k, m in records.items())


def _take_over_by_email(records: dict[RecordKey, RecordMemory], observations: list[Observation],
                        ctx: Context, out: Decision) -> None:
    """A write by address ends when the CRM is read: its records take it over, or none exist."""
    by_email = [k for k in records if k.object == BY_EMAIL]
    if not by_email or ctx.source != CRM:
        return
    for key in by_email:
        written = records.pop(key)
        heirs = [o.key for o in observations if o.key.role == CRM and o.live and o.writable
                 and o.key not in records]
        for heir in heirs:
            # written by address: the record may show our value, or still the one before
            records[heir] = RecordMemory(heir, pending=written.pending,
                                         pending_at=written.pending_at,
                                         prior_at=written.prior_at,
                                         pending_run=written.pending_run)
        if not heirs and not any(k.role == CRM for k in records):
            out.events.append(AuditEvent(
                "R7", out.memory.agreed, out.memory.agreed, None,
                "write by address ended: no CRM record has this address; the agreed state "
                "stays in the ledger, so a record created later is born with it (R4)"))


def _platform_contact(out: Decision, observations: list[Observation], had_live_crm: bool,
                      profile_digest: str | None, spelling: str | None, ctx: Context) -> None:
    """The person's main platform contact: kept while a live CRM record is selected (R8)."""
    memory = out.memory
    contact = main_contact_key(memory, ctx.platform, spelling)
    out.contact = contact
    current = memory.records.get(contact)
    if _has_live_selected_crm(memory.records):
        if current is None or not current.live:
            # new, or re-created after the sync deleted it: born with the agreed state (R4)
            memory.records[contact] = RecordMemory(contact)
        elif not current.selected:
            memory.records[contact] = replace(current, selected=True, exit_read=None)
            out.events.append(AuditEvent("R8", memory.agreed, memory.agreed, contact,
                                         "a live CRM record is selected again: the contact's "
                                         "removal, waiting for its consent to be read, is "
                                         "dropped"))
        if profile_digest is not None and (profile_digest != memory.profile_hash
                                           or not memory.profile_confirmed):
            # an unconfirmed profile is sent again: the run that sent it may have failed
            memory.profile_hash, memory.profile_confirmed = profile_digest, False
            out.send_profile = True
        out.contact_action = UPSERT
        return
    exits = [o.key for o in observations if o.key.role == CRM and not (o.live and o.selected)]
    what = f"no live CRM record left ({', '.join(map(str, exits[:5])) or 'none seen'})"
    if current is not None and current.live and not current.selected:
        _waiting_removal(out, contact, current, ctx)
        return
    removed = contact if current is not None and not current.live else None
    if removed is None and not had_live_crm:
        # the exit was decided before; beside a case twin still live, the main contact is the
        # twin, and the contact that run deleted is another (chaos trial stop20h 1)
        removed = _deleted_contact(memory, ctx.platform)
    if removed is not None:
        _deleted_before(out, removed, exits, what, ctx)
        return
    if not had_live_crm or current is None:
        return  # never synced from the CRM: the sync does not own (or remove) this contact
    if ctx.on_exit_remove and not memory.agreed:
        # an unsubscribe or bounce made there since the last read (consent-sync reads the
        # platform after this direction) would go with the contact, and the Lead it leaves
        # stay subscribed (chaos seed stop26o, script 1); unread, its opt-out is known nowhere
        # else (property test, chaos trial stop21j 4)
        out.events.append(AuditEvent("R8", memory.agreed, memory.agreed, exits[0] if exits
                                     else None, what + f"; on_exit=remove: the removal waits "
                                     f"for the next read of {ctx.platform}, which sees any "
                                     "opt-out made there since"))
        memory.records[contact] = replace(current, selected=False, exit_read=ctx.reads)
    elif ctx.on_exit_remove:
        out.events.append(AuditEvent("R8", memory.agreed, memory.agreed, exits[0] if exits
                                     else None, what + "; on_exit=remove: contact deleted, "
                                     "consent kept in the ledger", (contact,)))
        _remove(out, contact, current, ctx)
    else:
        out.events.append(AuditEvent("R8", memory.agreed, memory.agreed, exits[0] if exits
                                     else None, what + "; on_exit=keep: contact kept"))


def _deleted_before(out: Decision, removed: RecordKey, exits: list[RecordKey], what: str,
                    ctx: Context) -> None:
    """A contact an earlier run deleted: its deletion is sent again until it is known written
    (R7). The run that sent it may have died, or its target call failed, after the ledger
    committed; the exit is then read again only if it was in that run's input (the tap's
    bookmark did not move), not when a waiting removal was decided."""
    memory = out.memory
    current = memory.records[removed]
    unwritten = current.deleted_run is not None and (
        ctx.written_run is None or ctx.written_run < current.deleted_run)
    if not ctx.on_exit_remove or not (exits or unwritten):
        if current.deleted_run is not None:  # known written, or no longer to be removed
            memory.records[removed] = replace(current, deleted_run=None)
        return
    out.contact, out.contact_action = removed, DELETE
    memory.records[removed] = replace(current, deleted_run=ctx.run)
    cause = (f"the run that sent it (run {current.deleted_run}) is not known written"
             if unwritten else "the run that sent it may not have written it")
    out.events.append(AuditEvent("R7", memory.agreed, memory.agreed,
                                 exits[0] if exits else removed,
                                 what + f"; on_exit=remove: the contact's deletion sent again "
                                 f"({cause})", (removed,)))


def held_back(memory: RecordMemory | None) -> bool:
    """A record whose re-subscribe waits for its first read (R4): any write of ours to it
    would move its modstamp past the re-subscribe, so that its opt-out read then, ours landed
    long before, would count as made after the re-subscribe (chaos stop25e 3)."""
    return memory is not None and memory.live and memory.observed is None \
        and memory.pending is None and memory.observed_at is not None


def _unseen_since_sent(memory: RecordMemory, ctx: Context) -> bool:
    """A read of the target system finished since our write to this record was sent, and did
    not show it. For a platform contact that means the write never created it: a contact there
    when that read began was in it (the first read is full, later ones bring every contact
    changed since)."""
    return memory.pending_run is not None \
        and ctx.reads - memory.pending_run >= ctx.retry_after_runs


def _hold_profile(out: Decision, before: PersonMemory, ctx: Context) -> None:
    """The main contact's profile waits with its held re-subscribe, and goes out with it."""
    memory = out.memory
    contact = memory.records.get(out.contact) if out.contact is not None else None
    if out.contact is None or out.contact_action != UPSERT or contact is None \
            or not held_back(contact):
        return
    if _unseen_since_sent(contact, ctx):
        memory.records[out.contact] = replace(contact, observed_at=None, pending_run=None)
        out.events.append(AuditEvent(
            "R4", memory.agreed, memory.agreed, out.contact,
            "held re-subscribe ended: a read finished since our opt-out was sent to this "
            "contact and did not show it, so that opt-out never created it; the person's "
            "profile creates it, without consent (born subscribed, as any new contact), and an "
            "opt-out read there later counts"))
        out.send_profile, memory.profile_confirmed = True, False
        return
    if not out.send_profile:
        return
    out.send_profile, out.hold_profile = False, True
    memory.profile_hash, memory.profile_confirmed = before.profile_hash, before.profile_confirmed
    if before.withheld_profile is None:  # said once, not on every run of the hold
        out.events.append(AuditEvent(
            "R4", memory.agreed, memory.agreed, out.contact,
            "profile held back: the contact's re-subscribe waits for its first read, and a "
            "profile upsert would make our older opt-out there read as newer than it; both "
            "are sent once a read has shown the contact"))


def _never_read_there(memory: RecordMemory) -> bool:
    """No read of the platform has shown this contact (its consent, or that it has none)."""
    return memory.observed is None and memory.native_id is None


def _remove(out: Decision, contact: RecordKey, current: RecordMemory, ctx: Context) -> None:
    out.contact, out.contact_action = contact, DELETE
    # kept as deleted, so that the deletion is sent again until known written; re-created
    # later, it is born with the agreed state (R4)
    out.memory.records[contact] = replace(current, live=False, selected=True, pending=None,
                                          pending_at=None, prior_at=None, pending_run=None,
                                          exit_read=None, deleted_run=ctx.run)
    out.memory.profile_hash, out.memory.profile_confirmed = None, False
    out.memory.withheld_profile = None


def _waiting_removal(out: Decision, contact: RecordKey, current: RecordMemory,
                     ctx: Context) -> None:
    """A removal that waited for the contact's consent to be read (R8): done once it was."""
    memory = out.memory
    if not memory.agreed and (_never_read_there(current) or not _read_since_exit(current, ctx)):
        return  # the ledger holds the opt-out once agreed: nothing is lost by deleting
    if not ctx.on_exit_remove:
        memory.records[contact] = replace(current, selected=True, exit_read=None)
        out.events.append(AuditEvent("R8", memory.agreed, memory.agreed, contact,
                                     "on_exit=keep now: the contact's waiting removal is "
                                     "dropped, contact kept"))
        return
    state = "opted out" if memory.agreed else "no opt-out"
    out.events.append(AuditEvent("R8", memory.agreed, memory.agreed, contact,
                                 f"the person's consent known ({state}); on_exit=remove: the "
                                 "waiting removal done, contact deleted, consent kept in the "
                                 "ledger", (contact,)))
    _remove(out, contact, current, ctx)


def _read_since_exit(memory: RecordMemory, ctx: Context) -> bool:
    """A read of the platform finished since the exit was decided (or it predates the wait)."""
    return memory.exit_read is None or ctx.reads > memory.exit_read


def _deleted_contact(memory: PersonMemory, platform: str) -> RecordKey | None:
    """A contact of the platform that the sync deleted (R8), the normalized address first."""
    deleted = sorted((k for k, m in memory.records.items()
                      if k.role == PLATFORM and k.system == platform and not m.live),
                     key=lambda k: (k.record_id != memory.email, k.record_id))
    return deleted[0] if deleted else None


def main_contact_key(memory: PersonMemory, platform: str,
                     spelling: str | None = None) -> RecordKey:
    """The platform contact that carries the person's profile: one the ledger knows (the
    normalized address first), else a new one spelt as the CRM spells the address."""
    known = sorted((k for k in memory.records
                    if k.role == PLATFORM and k.system == platform),
                   key=lambda k: (not memory.records[k].live, k.record_id))
    # a live contact first; one the sync deleted only when no other is known (R8 replays)
    for key in known:
        if key.record_id == memory.email and memory.records[key].live:
            return key
    if known:
        return known[0]
    return RecordKey(PLATFORM, platform, "contact", spelling or memory.email)


def case_twins(memory: PersonMemory) -> set[RecordKey]:
    """Live platform contacts of the person whose spellings differ only in case: an upsert by
    address cannot tell them apart."""
    by_lower: dict[tuple[str, str], list[RecordKey]] = {}
    for key, record in memory.records.items():
        if key.role == PLATFORM and record.live:
            by_lower.setdefault((key.system, key.record_id.lower()), []).append(key)
    return {k for keys in by_lower.values() if len(keys) > 1 for k in keys}


def _plan_writes(out: Decision, ctx: Context, observed: bool) -> None:
    """R5: every record of the person in the target system ends at the agreed state; R7: a
    write that a later read of its system did not see back is sent again."""
    memory = out.memory
    agreed = memory.agreed
    targets = [(k, m) for k, m in sorted(memory.records.items(), key=lambda kv: str(kv[0]))
               if k.role == ctx.target and m.live and m.writable
               and (ctx.target == CRM or k.system == ctx.platform)]
    if ctx.target == CRM and not any(k.object != BY_EMAIL for k, _ in targets) \
            and not ctx.crm_read and observed:
        key = RecordKey(CRM, "salesforce", BY_EMAIL, memory.email)
        if key not in memory.records:
            memory.records[key] = RecordMemory(key)
            targets.append((key, memory.records[key]))
    twins = case_twins(memory) if ctx.target == PLATFORM else set()
    for key, m in targets:
        if m.pending is not None and m.pending == agreed:
            lost = ctx.reads - (m.pending_run or 0) >= ctx.retry_after_runs
            if lost and not agreed and key in twins and not ctx.resubscribes_case_twins:
                # the re-subscribe went by address and reached the older of the two (unless
                # this is the older one, which a read would have confirmed): sent again, it
                # would be on every run. Given up until the contact is read changed (an
                # observation makes it writable again)
                _end_write(out, key, "R7", "write given up: the platform re-subscribes by "
                           "address only, and another contact's address differs from this one "
                           "only in case, so the write reached that one; re-subscribe this "
                           "contact in the platform, or merge the two", writable=False)
                continue
            if lost and m.observed == agreed and key.object != BY_EMAIL:
                # the record held this value when last read, and no read since saw it change
                # (our older write of the other value did not land either): a write of the value
                # a record has changes nothing there, so it is never read back. Sent again, it
                # would be on every run; it ends here (chaos suite finding)
                _end_write(out, key, "R7", "write ended: the record holds this value since our "
                           "last reading, and no read since shows a change, so the write "
                           "changed nothing there")
                continue
            if lost and key.object != BY_EMAIL:
                out.retried += 1
                out.writes.append(Write(key, agreed, "R7"))
                memory.records[key] = replace(m, pending_run=ctx.reads, pending_at=ctx.now)
            continue
        if m.pending is None:
            if m.observed is None and not agreed:
                continue  # never read there: a re-subscribe is never sent blind (R4)
            if m.observed == agreed:
                continue
        elif m.observed is None and not agreed and key.object != BY_EMAIL:
            # never read there, and our opt-out sent to it was never read back: whether it
            # landed, or the person opted out there since, no read has shown. A re-subscribe is
            # never sent blind (R4: chaos stop24e 9, it overwrote the person's newer opt-out).
            # Our opt-out ends, the record keeps the re-subscribe's time, and its next read
            # decides: an opt-out made there before the re-subscribe (ours landing, or the
            # person's own) loses to it, a newer one wins (chaos stop25d 5: our landed opt-out,
            # read first as a new one, reverted the Lead's re-subscribe everywhere)
            # `pending_run` stays: a read finished since then that does not show the contact
            # means our opt-out never created it, and _hold_profile ends the hold
            _end_write(out, key, "R4", "re-subscribe not sent: no read has shown this record's "
                       "consent, nor our opt-out sent to it; its next read decides (an opt-out "
                       "made there after the re-subscribe wins)",
                       observed_at=out.resubscribed_at, pending_run=m.pending_run)
            continue
        # R5; an older unconfirmed write of the other value is remembered (`prior_at`), so
        # that reading it back later is known as ours, not as a change
        prior = m.pending_at if m.pending is not None else None
        out.writes.append(Write(key, agreed, "R5"))
        memory.records[key] = replace(m, pending=agreed, pending_at=ctx.now, prior_at=prior,
                                      pending_run=ctx.reads,
                                      # a held re-subscribe's time ends with the hold
                                      observed_at=m.observed_at if m.observed is not None
                                      else None)


def _end_write(out: Decision, key: RecordKey, rule: str, detail: str,
               **changes: bool | str | int | None) -> None:
    """The write owed to ``key`` ends unsent, and the audit trail says why."""
    agreed = out.memory.agreed
    out.events.append(AuditEvent(rule, agreed, agreed, key, detail))
    cleared: dict[str, bool | str | int | None] = {
        "pending": None, "pending_at": None, "prior_at": None, "pending_run": None}
    out.memory.records[key] = replace(out.memory.records[key], **{**cleared, **changes})
