"""tap-salesforce-optout: Leads, Contacts and Person Accounts with their email opt-out."""

from __future__ import annotations

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from .connection import SalesforceConnection
from .preflight import fields_to_read
from .selection import SelectionError, parse
from .streams import SObjectStream

OBJECTS = ("Lead", "Contact", "Account")


class TapSalesforceOptout(Tap):
    name = "tap-salesforce-optout"
    package_name = "consentsync-tap-salesforce-optout"
    connection: SalesforceConnection | None = None
    config_jsonschema = th.PropertiesList(
        th.Property("instance_url", th.StringType,
                    description="Org URL (https://acme.my.salesforce.com); the token answer's "
                                "instance_url wins when present."),
        th.Property("login_url", th.StringType, default="https://login.salesforce.com",
                    description="Where tokens come from: https://test.salesforce.com for "
                                "sandboxes, or the My Domain URL."),
        th.Property("client_id", th.StringType, description="Consumer key of the connected app."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="Consumer secret of the connected app."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token; the refresh_token grant is used when set."),
        th.Property("username", th.StringType,
                    description="Integration user, for the password grant."),
        th.Property("password", th.StringType, secret=True,
                    description="Password of the integration user."),
        th.Property("security_token", th.StringType, secret=True,
                    description="Security token of the integration user, appended to the "
                                "password."),
        th.Property("api_version", th.StringType, default="62.0",
                    description="REST API version."),
        th.Property("ca_bundle", th.StringType,
                    description="PEM file of certificate authorities to trust instead of the "
                                "system ones (TLS is always verified)."),
        th.Property("start_date", th.DateTimeType,
                    description="Read rows changed since then on the first run; all rows "
                                "when unset."),
        th.Property("page_size", th.IntegerType(minimum=200, maximum=2000), default=2000,
                    description="Rows a query page (Sforce-Query-Options batchSize, 200 to "
                                "2000)."),
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
        th.Property("max_api_usage_percent", th.NumberType(minimum=1, maximum=100),
                    default=90,
                    description="Stop reading, bookmarks intact, before the org's 24-hour API "
                                "usage (Sforce-Limit-Info) passes this share of its allowance."),
    ).to_dict()

    def discover_streams(self) -> list[SObjectStream]:
        # one connection (one token, one usage count) for every stream of the run
        self.connection = SalesforceConnection(self.config, self.logger)
        return self._sobject_streams(self.connection)

    def _sobject_streams(self, connection: SalesforceConnection) -> list[SObjectStream]:
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
            visible = self._visible_fields(connection, sobject)
            named = [*extra.get(sobject, []), *chosen.fields]
            fields = fields_to_read(sobject, visible, named, self.logger)
            streams.append(SObjectStream(self, sobject, fields, chosen, connection))
        return streams

    @staticmethod
    def _visible_fields(connection: SalesforceConnection, sobject: str) -> dict[str, str]:
        verify = connection.verify
        described = connection.call(
            lambda sf: sf.restful(f"sobjects/{sobject}/describe", verify=verify))
        return {f["name"]: f["type"] for f in described["fields"]}

    def sync_all(self) -> None:
        super().sync_all()
        if self.connection is not None:
            self.logger.info("Salesforce calls: %d; %s", self.connection.calls,
                             self.connection.usage_text())
