"""Per-record failures injected from the admin surface: named records fail in collections and Bulk.

A rule names a field and the values that fail (``Id`` compares 15/18-character Ids alike, text
compares case-blind), the error (``error_code``, ``message``) and optionally how many times each
value fails (``times``; absent: every time), so a retry can succeed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .errors import DEFAULT_MESSAGES, SalesforceError
from .schema import PREFIXES, to_18

RULE_KEYS = {"object", "field", "values", "error_code", "message", "times"}


def _normal(field_name: str, value: object) -> str:
    text = "" if value is None else str(value)
    if field_name.lower() == "id":
        return to_18(text) or text
    return text.casefold()


@dataclass
class FailureRule:
    field: str
    values: list[str]
    error_code: str = "UNABLE_TO_LOCK_ROW"
    message: str = ""
    object: str | None = None
    times: int | None = None
    _left: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.values = [_normal(self.field, v) for v in self.values]
        if self.times is not None:
            self._left = dict.fromkeys(self.values, self.times)

    def fire(self, obj: str | None, values: dict[str, object]) -> SalesforceError | None:
        if self.object and obj and self.object.lower() != obj.lower():
            return None
        given = next((v for k, v in values.items() if k.lower() == self.field.lower()), None)
        if given is None:
            return None
        key = _normal(self.field, given)
        if key not in self.values:
            return None
        if self.times is not None:
            if self._left.get(key, 0) <= 0:
                return None
            self._left[key] -= 1
        return SalesforceError(self.error_code,
                               self.message or DEFAULT_MESSAGES.get(self.error_code,
                                                                    self.error_code))


class RecordFailures:
    """The rules in force; thread-safe like the call counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FailureRule] = []

    def add(self, body: dict) -> None:
        unknown = set(body) - RULE_KEYS
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; use {sorted(RULE_KEYS)}")
        if not isinstance(body.get("values"), list) or not body.get("field"):
            raise ValueError("a rule needs a field and a list of values")
        with self._lock:
            self.rules.append(FailureRule(**body))

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def describe(self) -> list[dict]:
        with self._lock:
            return [{"object": r.object, "field": r.field, "values": r.values,
                     "error_code": r.error_code, "times": r.times} for r in self.rules]

    def check(self, item: object, obj: str | None = None) -> SalesforceError | None:
        """The injected error for this record (a collection item, an Id, or a Bulk row)."""
        if not self.rules:
            return None
        if isinstance(item, str):
            values: dict[str, object] = {"Id": item}
        elif isinstance(item, dict):
            values = item
        else:
            return None
        if obj is None:
            obj = (values.get("attributes") or {}).get("type") if isinstance(
                values.get("attributes"), dict) else None
            record_id = next((v for k, v in values.items() if k.lower() == "id"), None)
            if obj is None and isinstance(record_id, str) and to_18(record_id):
                obj = PREFIXES.get(to_18(record_id)[:3])
        with self._lock:
            for rule in self.rules:
                error = rule.fire(obj, values)
                if error is not None:
                    return error
        return None
