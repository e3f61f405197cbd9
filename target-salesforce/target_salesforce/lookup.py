"""Finding every record whose match field equals a value, and telling no-op updates apart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .preflight import has_field
from .writes import json_value


def lookup_filters(sobject: str, match_field: str, describe: Mapping[str, Any]) -> list[str]:
    """Rows a lookup must leave out: they are written through another object.

    Converted Leads refuse updates (their Contact is written instead); the Contact half of a
    Person Account is written through the Account's person fields.
    """
    filters: list[str] = []
    if has_field(describe, "IsConverted"):
        filters.append("IsConverted = false")
    if has_field(describe, "IsPersonAccount"):
        if sobject.lower() == "contact":
            filters.append("IsPersonAccount = false")
        elif sobject.lower() == "account" and match_field.lower().startswith("person"):
            filters.append("IsPersonAccount = true")
    return filters


def rows_by_value(rows: Iterable[Mapping[str, Any]], match_field: str
                  ) -> dict[str, list[Mapping[str, Any]]]:
    """Rows grouped by their match value, lower-cased (equality is case-blind)."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        value = next((v for k, v in row.items() if k.lower() == match_field.lower()), None)
        if isinstance(value, str):
            grouped.setdefault(value.lower(), []).append(row)
    return grouped


def already_equal(row: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    """True when the row already holds every value to write (then the update is a no-op)."""
    current = {k.lower(): v for k, v in row.items()}
    for name, value in fields.items():
        if name.lower() not in current:
            return False
        have, want = current[name.lower()], json_value(value)
        if type(have) is not type(want) and not (_number(have) and _number(want)):
            return False
        if have != want:
            return False
    return True


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
