"""Splitting an input record into its key (Id, match field or external id) and fields to write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

KeyKind = Literal["id", "match", "external_id"]
ALWAYS_SKIPPED = {"id", "attributes"}  # Id is a key; attributes come from raw REST rows
# the values a record expects its target to hold now (compare-and-set, see expectations.py);
# no Salesforce field name starts with an underscore
EXPECTED = "_expected"


class InvalidRecord(ValueError):
    """A record that names no usable key."""


@dataclass(frozen=True)
class StreamKeys:
    sobject: str
    match_field: str | None = None
    external_id_field: str | None = None

    def is_key(self, name: str) -> bool:
        folded = name.lower()
        keys = {k.lower() for k in (self.match_field, self.external_id_field) if k}
        return folded in ALWAYS_SKIPPED or folded in keys


@dataclass(frozen=True)
class KeyedRecord:
    kind: KeyKind
    key: str
    fields: dict[str, Any]
    origin: str  # how error messages name the input record, e.g. "Email=dana@x.io"
    expected: Mapping[str, Any] | None = None  # field -> value the record must hold now


def upsert_key(key_properties: Sequence[str] | None) -> str | None:
    """A stream keyed on one field other than Id names the external id it is upserted by
    (when `external_id_fields` names none for it)."""
    keys = list(key_properties or ())
    return keys[0] if len(keys) == 1 and keys[0].lower() != "id" else None


def fields_to_write(record: Mapping[str, Any], keys: StreamKeys) -> dict[str, Any]:
    """Every property except Singer metadata (``_sdc_*``) and key fields."""
    return {name: value for name, value in record.items()
            if not name.startswith("_sdc_") and name != EXPECTED and not keys.is_key(name)}


def _text(record: Mapping[str, Any], name: str | None) -> str | None:
    if not name:
        return None
    value = next((v for k, v in record.items() if k.lower() == name.lower()), None)
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def key_record(record: Mapping[str, Any], keys: StreamKeys) -> KeyedRecord:
    """``Id`` wins, then the match field, then the external id field."""
    fields = fields_to_write(record, keys)
    expected = record.get(EXPECTED)
    if expected is not None and not isinstance(expected, Mapping):
        raise InvalidRecord(f"{keys.sobject} record: {EXPECTED} must be an object of field: "
                            f"value, not {expected!r}")
    record_id = _text(record, "Id")
    if record_id:
        return KeyedRecord("id", record_id, fields, f"Id={record_id}", expected or None)
    if expected:
        raise InvalidRecord(f"{keys.sobject} record without Id has {EXPECTED}: expected values "
                            "are checked on records named by Id only; send the Id")
    value = _text(record, keys.match_field)
    if value and keys.match_field:
        return KeyedRecord("match", value, fields, f"{keys.match_field}={value}")
    external = _text(record, keys.external_id_field)
    if external and keys.external_id_field:
        return KeyedRecord("external_id", external, fields,
                           f"{keys.external_id_field}={external}")
    named = [k for k in ("Id", keys.match_field, keys.external_id_field) if k]
    raise InvalidRecord(
        f"{keys.sobject} record has no value in any key field ({', '.join(named)}); "
        f"send Id, or set match_fields / external_id_fields for stream {keys.sobject}. "
        f"Properties present: {', '.join(sorted(record)) or 'none'}"
    )
