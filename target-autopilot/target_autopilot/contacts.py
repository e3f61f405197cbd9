"""Records of the `contacts` stream as Autopilot contact payloads."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# one @, a name before it, a dotted domain after it: a light check, Autopilot has the last word
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
# keys of a record that are instructions to the target, not contact fields
CONTROL_KEYS = {"Email", "unsubscribed", "custom_fields", "lists", "lists_remove", "contact_id",
                "_expected"}
TYPES = ("string", "integer", "float", "boolean", "date")


class BadRecord(ValueError):
    """A record this target will not send; the message names the fix."""


def email_of(record: dict) -> str:
    email = record.get("Email")
    if not isinstance(email, str) or not EMAIL.match(email.strip()):
        raise BadRecord(f"Email {email!r} is not a valid address (name@domain.tld): fix it at "
                        "the source")
    return email.strip()


def plain(value: Any) -> Any:  # noqa: ANN401
    """JSON-ready: the SDK reads JSON numbers with a fraction as Decimal."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def field_type(value: object) -> str:
    """Autopilot's custom field type for a value of a field seen for the first time."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            date.fromisoformat(value[:10])
            if len(value) > 10:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "string"
        return "date"
    return "string"


def custom_key(name: str, kind: str) -> str:
    return f"{kind}--{name.strip().replace(' ', '--')}"


def as_type(value: object, kind: str) -> object:
    """The value in the shape a field of `kind` takes, where that is lossless; else unchanged
    (Autopilot then refuses it and the record is reported)."""
    if kind == "string" and not isinstance(value, str | dict | list):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def payload(record: dict, known_types: dict[str, str]) -> dict[str, Any]:
    """The contact to upsert: fields as given (nulls left out, so they never blank a value),
    `unsubscribed` only when the record has it, custom fields typed.

    `known_types` (name -> type) learns the type of each new custom field from its first value.
    """
    contact: dict[str, Any] = {"Email": email_of(record)}
    record = plain(record)
    for key, value in record.items():
        if key in CONTROL_KEYS or key.startswith("_sdc_") or value is None:
            continue
        contact[key] = value
    if record.get("unsubscribed") is not None:
        contact["unsubscribed"] = bool(record["unsubscribed"])
    fields = record.get("custom_fields") or {}
    if not isinstance(fields, dict):
        raise BadRecord(f"custom_fields must be an object of name: value, not {fields!r}")
    custom = {}
    for name, value in fields.items():
        if value is None:
            continue
        kind = known_types.setdefault(name, field_type(value))
        custom[custom_key(name, kind)] = as_type(value, kind)
    if custom:
        contact["custom"] = custom
    return contact


def names(record: dict, key: str) -> list[str]:
    """The list names under `key` (`lists` or `lists_remove`), blanks and repeats dropped."""
    value = record.get(key) or []
    if isinstance(value, str) or not isinstance(value, list):
        raise BadRecord(f"{key} must be an array of list names, not {value!r}")
    return list(dict.fromkeys(n.strip() for n in value if isinstance(n, str) and n.strip()))
