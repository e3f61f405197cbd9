"""Compare-and-set: a record may name the values it expects its Salesforce record to hold now.

A record with ``_expected: {"Tier__c": "Gold"}`` is written only while the record still holds
those values: a sender that decided on an older reading does not overwrite a change made in
Salesforce since. The current values come from one SOQL query per 200 Ids; a record whose values
moved on is skipped (counted and logged, not a failure): the sender sees the change at its next
read and decides again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simple_salesforce.format import quote_soql_value

from .preflight import fields_by_name
from .records import KeyedRecord
from .writes import COLLECTION_LIMIT, json_value

Query = Callable[[str], list[dict[str, Any]]]
NUMBER_TYPES = ("double", "currency", "percent", "int", "long")


@dataclass
class Stale:
    """A record skipped because Salesforce holds other values than it expected."""

    origin: str
    differences: dict[str, tuple[Any, Any]]  # field -> (found, expected)

    def __str__(self) -> str:
        said = ", ".join(f"{name} is {found!r}, expected {want!r}"
                         for name, (found, want) in self.differences.items())
        return f"{self.origin}: {said}"


@dataclass
class Checked:
    current: list[KeyedRecord] = field(default_factory=list)
    stale: list[Stale] = field(default_factory=list)
    queries: int = 0


def check_expected(sobject: str, describe: Mapping[str, Any], keyed: Sequence[KeyedRecord],
                   canonical: Mapping[str, str], query: Query) -> Checked:
    """Split ``keyed`` into records to write and records whose expected values moved on."""
    checked = Checked()
    expecting = [k for k in keyed if k.expected]
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(expecting), COLLECTION_LIMIT):
        chunk = expecting[start:start + COLLECTION_LIMIT]
        names = sorted({canonical.get(n, n) for k in chunk for n in (k.expected or {})})
        ids = ", ".join(quote_soql_value(i) for i in dict.fromkeys(k.key for k in chunk))
        rows = query(f"SELECT Id, {', '.join(names)} FROM {sobject} WHERE Id IN ({ids})")
        checked.queries += 1
        found.update({str(row["Id"])[:15]: row for row in rows})
    types = {name: str(spec.get("type")) for name, spec in fields_by_name(describe).items()}
    for record in keyed:
        if not record.expected:
            checked.current.append(record)
            continue
        row = found.get(record.key[:15])
        if row is None:  # gone: the write reports NOT_FOUND or ENTITY_IS_DELETED itself
            checked.current.append(record)
            continue
        current = {k.lower(): v for k, v in row.items()}
        differences = {}
        for name, want in record.expected.items():
            have = current.get(canonical.get(name, name).lower())
            if not same(have, want, types.get(canonical.get(name, name).lower(), "string")):
                differences[name] = (have, want)
        if differences:
            checked.stale.append(Stale(record.origin, differences))
        else:
            checked.current.append(record)
    return checked


def same(have: object, want: object, kind: str) -> bool:
    """Equal as Salesforce stores a field of describe type ``kind`` (null and '' alike)."""
    want = json_value(want)
    if have in (None, "") or want in (None, ""):
        return have in (None, "") and want in (None, "")
    if kind == "boolean":
        return _boolean(have) == _boolean(want)
    if kind in NUMBER_TYPES:
        try:
            return float(str(have)) == float(str(want))
        except ValueError:
            return False
    if kind == "date":
        return str(have)[:10] == str(want)[:10]
    if kind == "datetime":
        return _instant(have) == _instant(want)
    return have == want


def _boolean(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _instant(value: object) -> object:
    text = str(value).strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
