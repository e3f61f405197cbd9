"""Records of the `contacts` stream as Autopilot contact payloads."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# keys of a record that are instructions, not contact fields
CONTROL_KEYS = {"Email", "unsubscribed", "custom_fields", "lists", "lists_remove"}


class BadRecord(ValueError):
    pass


def email_of(record: dict) -> str:
    email = record.get("Email")
    if not isinstance(email, str) or not EMAIL.match(email.strip()):
        raise BadRecord(f"Email {email!r} is not a valid address: fix it at the source")
    return email.strip()


def field_type(value: object) -> str:
    """Autopilot's custom field type for a value seen for the first time."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        try:
            date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return "string"
        return "date"
    return "string"


def custom_key(name: str, kind: str) -> str:
    return f"{kind}--{name.strip().replace(' ', '--')}"


def payload(record: dict, known_types: dict[str, str]) -> dict[str, Any]:
    """The contact to upsert: standard fields as given, `unsubscribed` only when present."""
    contact: dict[str, Any] = {"Email": email_of(record)}
    for key, value in record.items():
        if key in CONTROL_KEYS or key.startswith("_sdc_") or value is None:
            continue
        contact[key] = value
    if "unsubscribed" in record and record["unsubscribed"] is not None:
        contact["unsubscribed"] = bool(record["unsubscribed"])
    custom = {}
    for name, value in (record.get("custom_fields") or {}).items():
        if value is None:
            continue
        kind = known_types.setdefault(name, field_type(value))
        custom[custom_key(name, kind)] = value
    if custom:
        contact["custom"] = custom
    return contact
