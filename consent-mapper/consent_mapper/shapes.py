"""The output streams the mapper emits, as docs/contracts.md defines them for the targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from consent_mapper.decide import ACCOUNT, CONTACT, LEAD, PersonDecision

CONTACTS = "contacts"

# Autopilot's standard contact fields (PascalCase, plus owner_name); anything else is custom
AUTOPILOT_STANDARD_FIELDS = (
    "FirstName", "LastName", "Salutation", "Company", "NumberOfEmployees", "Title", "Industry",
    "Phone", "MobilePhone", "Fax", "Website", "Twitter", "LinkedIn", "MailingStreet",
    "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry", "LeadSource", "Status",
    "owner_name",
)

# Salesforce field -> Autopilot field, per stream. Contacts have no Company in their row (the
# Account name is elsewhere) and a Person Account's Name is the person, never a company (R9).
STANDARD_FIELD_MAP: Mapping[str, Mapping[str, str]] = {
    LEAD: {"FirstName": "FirstName", "LastName": "LastName", "Company": "Company",
           "Phone": "Phone", "LeadSource": "LeadSource", "Status": "Status",
           "Country": "MailingCountry"},
    CONTACT: {"FirstName": "FirstName", "LastName": "LastName", "Phone": "Phone",
              "LeadSource": "LeadSource", "MailingCountry": "MailingCountry"},
    ACCOUNT: {"FirstName": "FirstName", "LastName": "LastName"},
}
# never filled from a Person Account, whatever field_map says (R9)
PERSON_ACCOUNT_STRIPPED = frozenset({"Company"})

_ANY_SCALAR = {"type": ["string", "number", "integer", "boolean", "null"]}
_STRING_LIST = {"type": ["array", "null"], "items": {"type": "string"}}


@dataclass(frozen=True)
class StreamShape:
    stream: str
    schema: dict
    key_properties: tuple[str, ...]


def autopilot_fields(stream: str, record: Mapping[str, Any],
                     field_map: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Standard and custom Autopilot values from one Salesforce row (empty values left out)."""
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for source, target in (*STANDARD_FIELD_MAP[stream].items(), *field_map.items()):
        value = record.get(source)
        if value is None or value == "":
            continue
        if stream == ACCOUNT and target in PERSON_ACCOUNT_STRIPPED:
            continue
        (fields if target in AUTOPILOT_STANDARD_FIELDS else custom)[target] = value
    return fields, custom


def contacts_shape() -> StreamShape:
    properties: dict[str, Any] = {"Email": {"type": "string"}}
    for name in AUTOPILOT_STANDARD_FIELDS:
        properties[name] = _ANY_SCALAR  # field_map may put numbers or booleans here
    properties |= {
        "unsubscribed": {"type": ["boolean", "null"]},
        "custom_fields": {"type": ["object", "null"], "additionalProperties": _ANY_SCALAR},
        "lists": _STRING_LIST,
        "lists_remove": _STRING_LIST,
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    }
    schema = {"type": "object", "properties": properties, "required": ["Email"]}
    return StreamShape(CONTACTS, schema, ("Email",))


def autopilot_contact(decision: PersonDecision) -> dict[str, Any]:
    """The upsert of one person for target-autopilot."""
    record: dict[str, Any] = {"Email": decision.email, **decision.fields,
                              "unsubscribed": decision.opted_out}
    if decision.custom_fields:
        record["custom_fields"] = dict(decision.custom_fields)
    if decision.lists:
        record["lists"] = list(decision.lists)
    if decision.lists_remove:
        record["lists_remove"] = list(decision.lists_remove)
    return record


def autopilot_deletion(email: str, deleted_at: str) -> dict[str, Any]:
    """The deletion of one person's Autopilot contact (on_exit=remove)."""
    return {"Email": email, "_sdc_deleted_at": deleted_at}


SALESFORCE_MATCH = {LEAD: ("Email", "HasOptedOutOfEmail"),
                    CONTACT: ("Email", "HasOptedOutOfEmail"),
                    ACCOUNT: ("PersonEmail", "PersonHasOptedOutOfEmail")}


def salesforce_shapes() -> list[StreamShape]:
    """A record names its target by `Id` (a record the ledger knows) or by the match field."""
    return [
        StreamShape(stream, {"type": "object", "required": [flag],
                             "properties": {"Id": {"type": "string"},
                                            match: {"type": "string"},
                                            flag: {"type": "boolean"}}}, ())
        for stream, (match, flag) in SALESFORCE_MATCH.items()
    ]


def salesforce_records(decision: PersonDecision) -> list[tuple[str, dict[str, Any]]]:
    """The opt-out of one person for every kind of Salesforce record, keyed by its match field."""
    return [(stream, {match: decision.email, flag: decision.opted_out})
            for stream, (match, flag) in SALESFORCE_MATCH.items()]
