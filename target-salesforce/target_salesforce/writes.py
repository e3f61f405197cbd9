"""What one sObject Collections call sends: a record to update by Id or upsert by external id."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

COLLECTION_LIMIT = 200  # records per sObject Collections call


@dataclass
class Write:
    sobject: str
    fields: dict[str, Any]
    origins: list[str] = field(default_factory=list)  # which input records asked for it
    record_id: str | None = None
    external_id: tuple[str, str] | None = None  # (field, value) for an upsert

    @property
    def target(self) -> str:
        if self.record_id:
            return self.record_id
        if self.external_id:
            return f"{self.external_id[0]}={self.external_id[1]}"
        return "?"

    def body(self) -> dict[str, Any]:
        record: dict[str, Any] = {"attributes": {"type": self.sobject}}
        if self.record_id:
            record["id"] = self.record_id
        if self.external_id:
            record[self.external_id[0]] = self.external_id[1]
        record.update({name: json_value(value) for name, value in self.fields.items()})
        return record

    def merge(self, fields: Mapping[str, Any], origin: str) -> None:
        """A later input record for the same target wins field by field."""
        self.fields.update(fields)
        if origin not in self.origins:
            self.origins.append(origin)


def json_value(value: object) -> object:
    """The SDK parses date-time strings; Salesforce wants ISO-8601 text back."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def chunks(writes: list[Write], size: int = COLLECTION_LIMIT) -> list[list[Write]]:
    return [writes[i:i + size] for i in range(0, len(writes), size)]
