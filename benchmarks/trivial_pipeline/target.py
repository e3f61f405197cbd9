"""A target that validates and batches like any singer-sdk target, then drops the records."""

from __future__ import annotations

from singer_sdk import RecordSink, Target
from singer_sdk import typing as th


class DropSink(RecordSink):
    def process_record(self, record: dict, context: dict) -> None:
        pass


class TrivialTarget(Target):
    name = "target-trivial"
    config_jsonschema = th.PropertiesList().to_dict()
    default_sink_class = DropSink


if __name__ == "__main__":
    TrivialTarget.cli()
