"""Salesforce, the CRM: Lead, Contact and Account rows in; opt-out writes by Id or address out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from consent_mapper.rules import (
    BY_EMAIL,
    CRM,
    Observation,
    RecordKey,
    Skip,
    SkipReason,
    Write,
    address_of,
)
from consent_mapper.timestamps import utc

SYSTEM = "salesforce"
LEAD, CONTACT, ACCOUNT = "Lead", "Contact", "Account"
STREAMS = (LEAD, CONTACT, ACCOUNT)
EMAIL_FIELD = {LEAD: "Email", CONTACT: "Email", ACCOUNT: "PersonEmail"}
OPT_OUT_FIELD = {LEAD: "HasOptedOutOfEmail", CONTACT: "HasOptedOutOfEmail",
                 ACCOUNT: "PersonHasOptedOutOfEmail"}


@dataclass(frozen=True)
class Conversion:
    """A converted Lead: read-only, its opt-out belongs to the Contact it became (R5)."""

    lead: Observation
    contact: RecordKey
    email: str | None  # the Lead's own address, when valid


def key(stream: str, record_id: str) -> RecordKey:
    return RecordKey(CRM, SYSTEM, stream, record_id)


def observe(stream: str, record: Mapping[str, Any]) -> Observation | Skip:
    """One row as an observation of a person, or why it carries none."""
    source = key(stream, str(record.get("Id") or "?"))
    if stream == LEAD and record.get("IsConverted"):
        return Skip(SkipReason.CONVERTED_LEAD, source)
    if stream == CONTACT and record.get("IsPersonAccount"):
        return Skip(SkipReason.PERSON_ACCOUNT_CONTACT, source)
    if stream == ACCOUNT and not record.get("IsPersonAccount"):
        return Skip(SkipReason.BUSINESS_ACCOUNT, source)
    email = address_of(record.get(EMAIL_FIELD[stream]), source)
    if isinstance(email, Skip):
        return email
    return Observation(
        key=source, email=email, opted_out=bool(record.get(OPT_OUT_FIELD[stream])),
        changed_at=utc(str(record.get("SystemModstamp") or "")),
        live=not record.get("IsDeleted"), selected=record.get("in_selection") is not False,
        why=OPT_OUT_FIELD[stream],
        # a Person Account's Contact half: where Tasks of the person go (activities.py)
        native_id=str(record.get("PersonContactId") or "") or None if stream == ACCOUNT
        else None)


def spelling(stream: str, record: Mapping[str, Any]) -> str:
    """The address a new platform contact is created with: Salesforce's spelling, lower-cased
    (an IDN domain keeps the script it was typed in)."""
    return str(record.get(EMAIL_FIELD[stream]) or "").strip().lower()


def conversion(record: Mapping[str, Any]) -> Conversion | None:
    if not (record.get("IsConverted") and record.get("ConvertedContactId")):
        return None
    lead_key = key(LEAD, str(record.get("Id")))
    email = address_of(record.get("Email"), lead_key)
    lead = Observation(
        key=lead_key, email=email if isinstance(email, str) else "",
        opted_out=bool(record.get("HasOptedOutOfEmail")),
        changed_at=utc(str(record.get("SystemModstamp") or "")),
        live=not record.get("IsDeleted"), writable=False, why="HasOptedOutOfEmail")
    return Conversion(lead, key(CONTACT, str(record["ConvertedContactId"])),
                      email if isinstance(email, str) else None)


MATCH = {LEAD: ("Email", "HasOptedOutOfEmail"), CONTACT: ("Email", "HasOptedOutOfEmail"),
         ACCOUNT: ("PersonEmail", "PersonHasOptedOutOfEmail")}


_ANY_SCALAR = {"type": ["string", "number", "integer", "boolean", "null"]}


def shapes(mapped: list[str] | None = None) -> list[tuple[str, dict, tuple[str, ...]]]:
    """Output streams for target-salesforce: a record names its target by `Id`, or by address;
    with mapped fields, a record may carry them and the values it expects to replace."""
    extra: dict[str, Any] = {name: _ANY_SCALAR for name in mapped or ()}
    if extra:
        extra["_expected"] = {"type": "object", "properties": dict(extra)}
    return [(stream, {"type": "object",
                      "properties": {"Id": {"type": "string"}, match: {"type": "string"},
                                     flag: {"type": "boolean"}, **extra}}, ())
            for stream, (match, flag) in MATCH.items()]


def write_records(email: str, writes: list[Write]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for write in writes:
        if write.key.role != CRM:
            continue
        if write.key.object == BY_EMAIL:
            out.extend((stream, {match: email, flag: write.opted_out})
                       for stream, (match, flag) in MATCH.items())
        else:
            out.append((write.key.object, {"Id": write.key.record_id,
                                           OPT_OUT_FIELD[write.key.object]: write.opted_out}))
    return out
