"""tap-salesforce-optout: Leads, Contacts and Person Accounts with their email opt-out."""

from __future__ import annotations

import typing as t

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from consentsync_salesforce import SalesforceSession, clean_exit, connection_properties

from .preflight import fields_to_read
from .selection import SelectionError, parse
from .streams import SObjectStream

OBJECTS = ("Lead", "Contact", "Account")
DEFAULT_BULK_THRESHOLD = 10_000  # 5 REST pages; a Bulk job costs about as many calls


class TapSalesforceOptout(Tap):
    ("Reads Salesforce Leads, Contacts and Person Accounts with their email opt-out "
     "(HasOptedOutOfEmail) and bounce state, incrementally, for the consentsync consent "
     "mapper.")

    name = "tap-salesforce-optout"
    package_name = "consentsync-tap-salesforce-optout"
    connection: SalesforceSession | None = None
    config_jsonschema = th.PropertiesList(
        *connection_properties(),
        th.Property("start_date", th.DateTimeType,
                    description="Read rows changed since then on the first run; all rows "
                                "when unset."),
        th.Property("page_size", th.IntegerType(minimum=200, maximum=2000), default=2000,
                    description="Rows a query page (Sforce-Query-Options batchSize, 200 to "
                                "2000)."),
        th.Property("bulk_threshold", th.IntegerType(minimum=0), default=DEFAULT_BULK_THRESHOLD,
                    description="Rows to read (the first query page's totalSize) from which "
                                "the rest of a stream is read through one Bulk API 2.0 query "
                                "job instead of REST pages; 0: never."),
        th.Property("objects", th.ArrayType(th.StringType), default=list(OBJECTS),
                    description="Which of Lead, Contact, Account to read."),
        th.Property("selection", th.ObjectType(additional_properties=th.AnyType()),
                    description="Per object: 'all', 'none', or a list of {field, operator "
                                "(equals, not_equals, starts_with, contains, not_contains), "
                                "value} rows joined by AND; a value's comma-separated parts "
                                "mean OR. Rows that stop matching are still read, with "
                                "in_selection false."),
        th.Property("extra_fields", th.ObjectType(additional_properties=th.ArrayType(
                        th.StringType)),
                    description="Per object, further fields to read, e.g. {\"Lead\": "
                                "[\"Industry\", \"Tier__c\"]}."),
    ).to_dict()

    def discover_streams(self) -> list[SObjectStream]:
        # one connection (one token, one usage count) for every stream of the run
        self.connection = SalesforceSession(self.config, self.logger)
        return self._sobject_streams(self.connection)

    def _sobject_streams(self, connection: SalesforceSession) -> list[SObjectStream]:
        selection = self.config.get("selection") or {}
        extra = self.config.get("extra_fields") or {}
        objects = self.config.get("objects") or OBJECTS
        for setting, names in (("objects", objects), ("selection", selection),
                               ("extra_fields", extra)):
            for name in names:
                if name not in OBJECTS:
                    raise ConfigValidationError(
                        f"{setting}: {name!r} is not one of {', '.join(OBJECTS)} (API names, "
                        "case as written)")
        streams = []
        for sobject in objects:
            try:
                chosen = parse(sobject, selection.get(sobject))
            except SelectionError as exc:
                raise ConfigValidationError(str(exc)) from exc
            if chosen.mode == "none":
                self.logger.info("%s: selection is 'none', not read", sobject)
                continue
            described = self._describe(connection, sobject)
            visible = {f["name"]: f["type"] for f in described}
            named = [*extra.get(sobject, []), *chosen.fields]
            fields = fields_to_read(sobject, visible, named, self.logger)
            # readOnly in the schema: a consumer writing back knows these travel one way
            read_only = {f["name"] for f in described if not f.get("updateable")}
            streams.append(SObjectStream(self, sobject, fields, chosen, connection,
                                         read_only=read_only))
        return streams

    @staticmethod
    def _describe(connection: SalesforceSession, sobject: str) -> list[dict]:
        described = connection.describe(sobject)
        if described is None:
            raise ConfigValidationError(f"objects: this org shows no {sobject} to the user of "
                                        "this connection (check the user's object permissions)")
        return list(described["fields"])

    def setup_mapper(self) -> None:
        # the streams first: described now, they give their catalog entries this run's schemas
        # before the stream maps (and the SCHEMA messages) are built from the catalog
        _ = self.streams
        super().setup_mapper()

    def sync_all(self) -> None:
        super().sync_all()
        if self.connection is not None:
            self.logger.info("Salesforce calls: %d; %s", self.connection.calls,
                             self.connection.usage_text())

    # a Salesforce failure ends the run with its message alone, in discovery too

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        with clean_exit(cls.logger):
            super().invoke(*args, **kwargs)

    @classmethod
    def cb_discover(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        with clean_exit(cls.logger):
            super().cb_discover(*args, **kwargs)
