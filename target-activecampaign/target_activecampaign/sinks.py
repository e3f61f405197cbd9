"""The `contacts` sink: batches of up to 250 records (one bulk import) for the one writer."""

from __future__ import annotations

import typing as t

from singer_sdk.sinks import BatchSink

from .writer import MAX_IMPORT

if t.TYPE_CHECKING:
    from .target import TargetActiveCampaign


class ContactsSink(BatchSink):
    MAX_SIZE_DEFAULT = MAX_IMPORT

    def __init__(self, target: TargetActiveCampaign, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(target, *args, **kwargs)
        # one writer per run, shared by every sink the SDK creates (a new SCHEMA makes a new sink)
        self.writer = target.writer

    @property
    def max_size(self) -> int:
        # `batch_size_rows` may only lower the batch: a bulk import takes at most 250 contacts
        return min(MAX_IMPORT, int(self.config.get("batch_size_rows") or MAX_IMPORT))

    @property
    def include_sdc_metadata_properties(self) -> bool:
        return True  # keeps `_sdc_deleted_at`, a removal signal; no `_sdc_` key is written

    def process_batch(self, context: dict) -> None:
        self.writer.write(context.get("records", []))
