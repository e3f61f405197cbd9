"""A tap of one stream, `people`, of `record_count` records made up on the fly."""

from __future__ import annotations

from collections.abc import Iterable

from singer_sdk import Stream, Tap
from singer_sdk import typing as th


class PeopleStream(Stream):
    name = "people"
    primary_keys = ("id",)
    replication_key = None
    schema = th.PropertiesList(
        th.Property("id", th.IntegerType, required=True),
        th.Property("email", th.StringType),
        th.Property("opted_out", th.BooleanType),
        th.Property("updated_at", th.DateTimeType),
    ).to_dict()

    def get_records(self, context: dict | None) -> Iterable[dict]:
        for i in range(self.config["record_count"]):
            yield {"id": i, "email": f"person{i}@example.com", "opted_out": i % 13 == 0,
                   "updated_at": "2026-01-01T00:00:00+00:00"}


class TrivialTap(Tap):
    name = "tap-trivial"
    config_jsonschema = th.PropertiesList(
        th.Property("record_count", th.IntegerType, default=0),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        return [PeopleStream(self)]


if __name__ == "__main__":
    TrivialTap.cli()
