"""Autopilot, a marketing platform: its contacts in, contact upserts and deletions out.

A contact is known by its address as Autopilot spells it (an IDN domain in Unicode and in
punycode are two contacts there); the person is the normalized address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consent_mapper.profile import Profile
from consent_mapper.rules import (
    PLATFORM,
    Observation,
    RecordKey,
    RecordMemory,
    Skip,
    Write,
    address_of,
    person_account_fields,
)
from consent_mapper.timestamps import utc

SYSTEM = "autopilot"
CONTACTS = "contacts"
INPUT_STREAMS = (CONTACTS,)

# Autopilot's standard contact fields (PascalCase, plus owner_name); anything else is custom
STANDARD_FIELDS = (
    "FirstName", "LastName", "Salutation", "Company", "NumberOfEmployees", "Title", "Industry",
    "Phone", "MobilePhone", "Fax", "Website", "Twitter", "LinkedIn", "MailingStreet",
    "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry", "LeadSource", "Status",
    "owner_name",
)
# Salesforce field -> Autopilot field, per stream. Contacts have no Company in their row (the
# Account name is elsewhere); a Person Account's Name is the person, never a company.
FROM_SALESFORCE: Mapping[str, Mapping[str, str]] = {
    "Lead": {"FirstName": "FirstName", "LastName": "LastName", "Company": "Company",
             "Phone": "Phone", "LeadSource": "LeadSource", "Status": "Status",
             "Country": "MailingCountry"},
    "Contact": {"FirstName": "FirstName", "LastName": "LastName", "Phone": "Phone",
                "LeadSource": "LeadSource", "MailingCountry": "MailingCountry"},
    "Account": {"FirstName": "FirstName", "LastName": "LastName"},
}
# the contact field a Salesforce Account's Name fills (a contact's company is its fields)
COMPANY_FIELD = "Company"
RESERVED = frozenset({"Email", "unsubscribed", "lists", "lists_remove", "custom_fields",
                      "_sdc_deleted_at"})

# a list the ledger knows the contact joined is left out of a re-sent profile (joined_lists.py):
# Autopilot's lists are membership, and each join of an existing contact costs a call
OMIT_JOINED_LISTS = True
# `POST /contact/{id}/unsubscribe` names a contact by id; a re-subscribe is an upsert by address
RESUBSCRIBES_CASE_TWINS = False

_ANY_SCALAR = {"type": ["string", "number", "integer", "boolean", "null"]}
_STRING_LIST = {"type": ["array", "null"], "items": {"type": "string"}}


def key(spelling: str) -> RecordKey:
    return RecordKey(PLATFORM, SYSTEM, "contact", spelling)


def observe(stream: str, record: Mapping[str, Any]) -> Observation | Skip | None:
    """A contact as an observation of a person; None for the streams that carry no consent."""
    if stream != CONTACTS:
        return None
    email = address_of(record.get("Email"), key(str(record.get("contact_id") or "?")))
    if isinstance(email, Skip):
        return email  # named by its contact id: the address is what is wrong
    return Observation(
        key=key(str(record["Email"]).strip()), email=email,
        opted_out=bool(record.get("unsubscribed")),
        bounced=bool(record.get("hard_bounced")),
        changed_at=utc(str(record.get("updated_at") or "")), why="unsubscribed",
        native_id=str(record.get("contact_id") or "") or None)


def profile_fields(stream: str, record: Mapping[str, Any],
                   field_map: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Standard and custom Autopilot values from one Salesforce row (empty values left out)."""
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for source, target in (*FROM_SALESFORCE[stream].items(), *field_map.items()):
        value = record.get(source)
        if value is None or value == "":
            continue
        (fields if target in STANDARD_FIELDS else custom)[target] = value
    if stream == "Account":
        fields = person_account_fields(fields)
    return fields, custom


def shape() -> tuple[str, dict, tuple[str, ...]]:
    properties: dict[str, Any] = {"Email": {"type": "string"}}
    for name in STANDARD_FIELDS:
        properties[name] = _ANY_SCALAR  # field_map may put numbers or booleans here
    properties |= {
        "unsubscribed": {"type": ["boolean", "null"]},
        "contact_id": {"type": ["string", "null"]},
        "custom_fields": {"type": ["object", "null"], "additionalProperties": _ANY_SCALAR},
        # field -> value it must still hold (mapped fields: compare-and-set in the target)
        "_expected": {"type": ["object", "null"], "additionalProperties": _ANY_SCALAR},
        "lists": _STRING_LIST,
        "lists_remove": _STRING_LIST,
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    }
    return CONTACTS, {"type": "object", "properties": properties, "required": ["Email"]}, \
        ("Email",)


def profile_record(profile: Profile) -> dict[str, Any]:
    """The profile part of a contact upsert (no address, no consent)."""
    record: dict[str, Any] = dict(profile.fields or {})
    if profile.custom_fields:
        record["custom_fields"] = dict(profile.custom_fields)
    if profile.lists:
        record["lists"] = sorted(profile.lists)
    return record


def profile_for(doc: dict[str, Any], opted_out: bool | None) -> dict[str, Any]:
    return doc  # Autopilot's lists are membership, not consent


def contact_record(contact: RecordKey, memory: RecordMemory | None,
                   profile: dict[str, Any] | None, write: Write | None,
                   twin: bool = False) -> dict[str, Any]:
    """An upsert of ``contact``; a contact whose address another of the person's contacts
    shares but for case carries its id: an upsert by address cannot tell the two apart."""
    record: dict[str, Any] = {"Email": contact.record_id, **(profile or {})}
    if write is not None:
        record["unsubscribed"] = write.opted_out
    if twin and memory is not None and memory.native_id:
        record["contact_id"] = memory.native_id
    return record


def remember_write(memory: RecordMemory, write: Write) -> str | None:
    return memory.platform_state  # Autopilot's consent is one flag: nothing to remember


def merge_state(old: str | None, new: str | None) -> str | None:
    return new or old


def deletion(contact: RecordKey, deleted_at: str) -> dict[str, Any]:
    return {"Email": contact.record_id, "_sdc_deleted_at": deleted_at}
