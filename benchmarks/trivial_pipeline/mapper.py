"""An inline mapper that passes every message on unchanged."""

from __future__ import annotations

from collections.abc import Iterable

from singer_sdk import typing as th
from singer_sdk.mapper_base import InlineMapper
from singer_sdk.singerlib import (
    ActivateVersionMessage,
    Message,
    RecordMessage,
    SchemaMessage,
    StateMessage,
)


class PassThroughMapper(InlineMapper):
    name = "mapper-trivial"
    config_jsonschema = th.PropertiesList().to_dict()

    def map_schema_message(self, message_dict: dict) -> Iterable[Message]:
        yield SchemaMessage.from_dict(message_dict)

    def map_record_message(self, message_dict: dict) -> Iterable[Message]:
        yield RecordMessage.from_dict(message_dict)

    def map_state_message(self, message_dict: dict) -> Iterable[Message]:
        yield StateMessage.from_dict(message_dict)

    def map_activate_version_message(self, message_dict: dict) -> Iterable[Message]:
        yield ActivateVersionMessage.from_dict(message_dict)


if __name__ == "__main__":
    PassThroughMapper.cli()
