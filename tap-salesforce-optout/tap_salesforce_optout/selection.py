"""Selective sync: which rows of an object the user wants, decided locally for every changed row.

Rows that changed but no longer match are still read, so the consumer can remove them (they come
with `in_selection: false`). Criteria are checked here, never pasted into SOQL: no value of the
configuration can change a query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = ("equals", "not_equals", "starts_with", "contains", "not_contains")


class SelectionError(ValueError):
    pass


@dataclass(frozen=True)
class Criterion:
    field: str
    operator: str
    values: tuple[str, ...]

    def matches(self, row: Mapping[str, Any]) -> bool:
        value = row.get(self.field)
        text = "" if value is None else str(value).casefold()
        wanted = [v.casefold() for v in self.values]
        if self.operator == "equals":
            return text in wanted
        if self.operator == "not_equals":
            return text not in wanted
        if self.operator == "starts_with":
            return any(text.startswith(v) for v in wanted)
        if self.operator == "contains":
            return any(v in text for v in wanted)
        return not any(v in text for v in wanted)  # not_contains


@dataclass(frozen=True)
class Selection:
    """`all`, `none`, or criteria rows joined by AND."""

    mode: str  # "all", "none" or "criteria"
    criteria: tuple[Criterion, ...] = ()

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.criteria]

    def matches(self, row: Mapping[str, Any]) -> bool:
        return self.mode == "all" or all(c.matches(row) for c in self.criteria)


def parse(sobject: str, raw: object) -> Selection:
    if raw is None or raw == "all":
        return Selection("all")
    if raw == "none":
        return Selection("none")
    if not isinstance(raw, list) or not raw:
        raise SelectionError(f"selection.{sobject} must be 'all', 'none' or a list of "
                             f"{{field, operator, value}} rows; got {raw!r}")
    criteria = []
    for n, row in enumerate(raw):
        where = f"selection.{sobject}[{n}]"
        if not isinstance(row, dict) or not isinstance(row.get("field"), str):
            raise SelectionError(f"{where} needs a 'field' (a {sobject} field name)")
        operator = row.get("operator", "equals")
        if operator not in OPERATORS:
            raise SelectionError(f"{where}: operator {operator!r} is not one of {OPERATORS}")
        values = row.get("value", "")
        if isinstance(values, list):
            parts = tuple(str(v).strip() for v in values)
        else:
            parts = tuple(v.strip() for v in str(values).split(","))
        criteria.append(Criterion(row["field"], operator, tuple(p for p in parts if p)))
    return Selection("criteria", tuple(criteria))
