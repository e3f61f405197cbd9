"""The consent decisions of one run, as pure functions: no Singer, no I/O, no logging.

A source record becomes an :class:`Observation` of a person (or a :class:`Skip` with its reason);
observations of one person are folded into a :class:`Person`; :func:`decide_person` says what the
other system must hold for that person and which rule decided it (the audit events).

The consent itself is decided against the ledger (``ledger/engine.py``, driven by
``reconcile.py``); this module folds what one run read: the profile sent to Autopilot (fields,
lists, the newest record winning), the records leaving (R8), and why a record is skipped (R10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from consent_mapper.addresses import InvalidEmail, normalize_email

SALESFORCE, AUTOPILOT = "salesforce", "autopilot"
LEAD, CONTACT, ACCOUNT = "Lead", "Contact", "Account"
SALESFORCE_STREAMS = (LEAD, CONTACT, ACCOUNT)
AUTOPILOT_CONTACTS = "contacts"

EMAIL_FIELD = {LEAD: "Email", CONTACT: "Email", ACCOUNT: "PersonEmail"}
OPT_OUT_FIELD = {LEAD: "HasOptedOutOfEmail", CONTACT: "HasOptedOutOfEmail",
                 ACCOUNT: "PersonHasOptedOutOfEmail"}


class SkipReason(StrEnum):
    NO_EMAIL = "no_email"
    INVALID_EMAIL = "invalid_email"
    CONVERTED_LEAD = "converted_lead"  # the Contact it became carries the person
    PERSON_ACCOUNT_CONTACT = "person_account_contact"  # the Account carries the person (R9)
    BUSINESS_ACCOUNT = "business_account"  # a company, not a person


class Action(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"  # on_exit=remove and no live record of the person was seen
    NONE = "none"  # on_exit=keep and no live record of the person was seen


@dataclass(frozen=True, slots=True)
class SourceRef:
    system: str
    object: str
    record_id: str

    def __str__(self) -> str:
        return f"{self.system} {self.object} {self.record_id}"


@dataclass(frozen=True, slots=True)
class Skip:
    reason: SkipReason
    source: SourceRef
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    """One source record as seen in this run, reduced to what the rules need."""

    email: str
    source: SourceRef
    opted_out: bool
    why: str  # the source field (or fact) behind `opted_out`
    live: bool = True  # False: deleted or out of the selection (R8)
    changed_at: str = ""  # the source's modstamp, to let the newest record's fields win
    list_name: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """One decision for the audit trail (R11)."""

    email: str
    rule: str
    source: SourceRef | None
    detail: str
    new: bool | None = None


@dataclass(frozen=True, slots=True)
class Vote:
    """Which record said what: kept per person instead of the whole observation (memory)."""

    source: SourceRef
    why: str
    live: bool


@dataclass(slots=True)
class Person:
    """Every observation of one normalized address in this run, folded.

    Kept small on purpose: a run holds one of these per person until the input ends.
    """

    email: str
    opted_out_by: Vote | None = None  # first record seen opted out, a live one preferred
    opted_in_by: Vote | None = None  # first live record seen opted in
    live: int = 0
    exits: list[SourceRef] | None = None
    lists: tuple[str, ...] = ()
    exit_lists: tuple[str, ...] = ()
    fields: dict[str, Any] | None = None
    custom_fields: dict[str, Any] | None = None
    changed_at: str = ""

    def add(self, seen: Observation) -> None:
        if seen.opted_out and (self.opted_out_by is None
                               or seen.live and not self.opted_out_by.live):
            # R8: an exiting record's opt-out counts; a live one names it
            self.opted_out_by = Vote(seen.source, seen.why, seen.live)
        if not seen.live:
            self.exits = [*(self.exits or ()), seen.source]
            self.exit_lists = _with(self.exit_lists, seen.list_name)
            return
        self.live += 1
        if not seen.opted_out and self.opted_in_by is None:
            self.opted_in_by = Vote(seen.source, seen.why, seen.live)
        self.lists = _with(self.lists, seen.list_name)
        newer = seen.changed_at >= self.changed_at
        self.fields = _merge(self.fields, seen.fields, newer)
        self.custom_fields = _merge(self.custom_fields, seen.custom_fields, newer)
        self.changed_at = max(self.changed_at, seen.changed_at)


def _with(names: tuple[str, ...], name: str | None) -> tuple[str, ...]:
    return names if name is None or name in names else (*names, name)


def _merge(into: dict[str, Any] | None, values: Mapping[str, Any],
           newer: bool) -> dict[str, Any] | None:
    """The newest record's non-empty values win; older records only fill gaps."""
    for name, value in values.items():
        if value is None or value == "":
            continue
        if into is None:
            into = {}
        if newer or name not in into:
            into[name] = value
    return into


@dataclass(frozen=True, slots=True)
class PersonDecision:
    email: str
    action: Action
    opted_out: bool
    lists: tuple[str, ...] = ()
    lists_remove: tuple[str, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[Event, ...] = ()


def observe_salesforce(stream: str, record: Mapping[str, Any], lead_list: str,
                       contact_list: str) -> Observation | Skip:
    """A Lead, Contact or Account row as an observation of a person, or why it is skipped."""
    source = SourceRef(SALESFORCE, stream, str(record.get("Id") or "?"))
    if stream == LEAD and record.get("IsConverted"):
        return Skip(SkipReason.CONVERTED_LEAD, source)
    if stream == CONTACT and record.get("IsPersonAccount"):
        return Skip(SkipReason.PERSON_ACCOUNT_CONTACT, source)
    if stream == ACCOUNT and not record.get("IsPersonAccount"):
        return Skip(SkipReason.BUSINESS_ACCOUNT, source)
    email = _email_or_skip(record.get(EMAIL_FIELD[stream]), source)
    if isinstance(email, Skip):
        return email
    live = not record.get("IsDeleted") and record.get("in_selection") is not False
    return Observation(
        email=email,
        source=source,
        opted_out=bool(record.get(OPT_OUT_FIELD[stream])),
        why=OPT_OUT_FIELD[stream],
        live=live,
        changed_at=str(record.get("SystemModstamp") or ""),
        list_name=lead_list if stream == LEAD else contact_list,
    )


def observe_autopilot(record: Mapping[str, Any], bounce_is_opt_out: bool) -> Observation | Skip:
    """An Autopilot contact as an observation of a person: unsubscribed, or hard-bounced."""
    source = SourceRef(AUTOPILOT, "contact", str(record.get("contact_id") or "?"))
    email = _email_or_skip(record.get("Email"), source)
    if isinstance(email, Skip):
        return email
    if record.get("unsubscribed"):
        opted_out, why = True, "unsubscribed"
    elif bounce_is_opt_out and record.get("hard_bounced"):
        opted_out, why = True, "hard bounce (bounce_is_opt_out)"
    else:
        opted_out, why = False, "unsubscribed"
    return Observation(email=email, source=source, opted_out=opted_out, why=why,
                       changed_at=str(record.get("updated_at") or ""))


def _email_or_skip(raw: object, source: SourceRef) -> str | Skip:
    try:
        return normalize_email(raw)
    except InvalidEmail as exc:
        missing = raw is None or (isinstance(raw, str) and not raw.strip())
        reason = SkipReason.NO_EMAIL if missing else SkipReason.INVALID_EMAIL
        return Skip(reason, source, f"{raw!r}: {exc.reason}" if not missing else exc.reason)


def decide_person(person: Person, on_exit_remove: bool, origin: str) -> PersonDecision:
    """What the other system must hold for ``person`` after this run, and the rules behind it.

    ``origin`` names the source system in the audit details ("Salesforce", "Autopilot").
    """
    events: list[Event] = []
    out = person.opted_out_by
    exits = person.exits or []
    if person.live == 0:
        if on_exit_remove:
            events.append(Event(person.email, "R8", exits[0], _exit_detail(exits)
                                + "; on_exit=remove: contact deleted"))
            return PersonDecision(person.email, Action.DELETE, out is not None,
                                  events=tuple(events))
        events.append(Event(person.email, "R8", exits[0], _exit_detail(exits)
                            + "; on_exit=keep: contact kept"))
        return PersonDecision(person.email, Action.NONE, out is not None, events=tuple(events))

    opted_out = out is not None
    if out is not None:
        if not out.live:
            events.append(Event(person.email, "R8", out.source,
                                f"opt-out of a deleted or deselected record is kept "
                                f"({out.why}); live records say opted in", True))
        elif person.opted_in_by is not None:
            events.append(Event(person.email, "R3", out.source,
                                f"records disagree, opt-out wins ({out.why} over "
                                f"{person.opted_in_by.source})", True))
        else:
            events.append(Event(person.email, "R2", out.source,
                                f"opt-out made in {origin} ({out.why})", True))
    lists_remove: tuple[str, ...] = ()
    if exits:
        if on_exit_remove:
            lists_remove = tuple(sorted(set(person.exit_lists) - set(person.lists)))
        events.append(Event(person.email, "R8", exits[0], _exit_detail(exits)
                            + "; contact kept: a live record of the person was seen"
                            + (f", leaves {list(lists_remove)}" if lists_remove else "")))
    return PersonDecision(
        email=person.email,
        action=Action.UPSERT,
        opted_out=opted_out,
        lists=tuple(sorted(person.lists)),
        lists_remove=lists_remove,
        fields=person.fields or {},
        custom_fields=person.custom_fields or {},
        events=tuple(events),
    )


def _exit_detail(exits: list[SourceRef]) -> str:
    names = ", ".join(str(ref) for ref in exits[:5])
    more = f" and {len(exits) - 5} more" if len(exits) > 5 else ""
    return f"deleted or out of the selection: {names}{more}"
