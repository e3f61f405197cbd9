"""The `contacts` sink: batches of 100 records handed to the target's one ContactWriter."""

from __future__ import annotations

import typing as t

from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator

from .validation import CompiledValidator
from .writer import BULK_MAX

if t.TYPE_CHECKING:
    from .target import TargetAutopilot


class ContactsSink(BatchSink):
    MAX_SIZE_DEFAULT = BULK_MAX

    def __init__(self, target: TargetAutopilot, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(target, *args, **kwargs)
        # one writer per run, shared by every sink the SDK creates (a new SCHEMA makes a new
        # sink): custom field types, list ids, failures and the call count live once
        self.writer = target.writer

    @property
    def max_size(self) -> int:
        # `batch_size_rows` may only lower the batch: Autopilot refuses bulk upserts over 100
        return min(BULK_MAX, int(self.config.get("batch_size_rows") or BULK_MAX))

    @property
    def include_sdc_metadata_properties(self) -> bool:
        return True  # keeps `_sdc_deleted_at`, the removal signal; no `_sdc_` key is written

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return CompiledValidator(self.schema) if self.validate_schema else None

    def process_batch(self, context: dict) -> None:
        self.writer.write(context.get("records", []))
