"""Checks made once per stream from the sObject's describe, before anything is written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import FieldAccessError

FLS_PATH = "Setup → Security Controls → Field Accessibility"


def fields_by_name(describe: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Describe's fields keyed by lower-cased name: the API treats field names case-blind."""
    return {f["name"].lower(): f for f in describe.get("fields", [])}


def hidden_field_message(sobject: str, field: str) -> str:
    return (
        f"{sobject}.{field} is not visible to the Salesforce integration user: describe of "
        f"{sobject} does not list it (Field-Level Security hides it, or no such field exists). "
        f"Make it visible for the integration user's profile under {FLS_PATH} "
        f"(object {sobject}, field {field}, 'Visible'), or check the field name."
    )


def read_only_message(sobject: str, field: str, calculated: bool) -> str:
    if calculated:
        return (f"{sobject}.{field} is a formula (calculated) field and cannot be written; "
                "remove it from the records of this stream.")
    return (
        f"{sobject}.{field} is read-only for the Salesforce integration user (updateable: "
        f"false). Grant edit access for the integration user's profile under {FLS_PATH} "
        f"(object {sobject}, field {field}: 'Visible' and not 'Read-Only')."
    )


def check_fields(sobject: str, describe: Mapping[str, Any], written: Iterable[str],
                 read: Iterable[str] = ()) -> dict[str, str]:
    """Raise FieldAccessError for the first hidden or read-only field.

    Returns the canonical spelling of every field checked, keyed by the name given.
    """
    known = fields_by_name(describe)
    canonical: dict[str, str] = {}
    for name in dict.fromkeys(read):
        spec = known.get(name.lower())
        if spec is None:
            raise FieldAccessError(hidden_field_message(sobject, name))
        canonical[name] = spec["name"]
    for name in dict.fromkeys(written):
        spec = known.get(name.lower())
        if spec is None:
            raise FieldAccessError(hidden_field_message(sobject, name))
        if not spec.get("updateable"):
            raise FieldAccessError(read_only_message(sobject, name, bool(spec.get("calculated"))))
        canonical[name] = spec["name"]
    return canonical


def has_field(describe: Mapping[str, Any], name: str) -> bool:
    return name.lower() in fields_by_name(describe)
