"""tap-salesforce-optout: Leads, Contacts and Person Accounts with their email opt-out."""

from __future__ import annotations

import typing as t

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from .connection import SalesforceConnection, UsageLimitReached
from .fields import FIELDS, PERSON_FIELDS, REQUIRED
from .selection import SelectionError, parse
from .streams import SObjectStream

OBJECTS = ("Lead", "Contact", "Account")
FLS_HINT = ("make it visible to the integration user: Setup, Security Controls, Field "
            "Accessibility (or the field's Set Field-Level Security), for the connected user's "
            "profile, then run again")


class HiddenField(Exception):
    pass


class TapSalesforceOptout(Tap):
    name = "tap-salesforce-optout"
    package_name = "consentsync-tap-salesforce-optout"
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
        th.Property("page_size", th.IntegerType, default=2000,
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
        th.Property("max_api_usage_percent", th.NumberType, default=90,
                    description="Stop reading, bookmarks intact, before the org's 24-hour API "
                                "usage (Sforce-Limit-Info) passes this share of its allowance."),
    ).to_dict()

    def discover_streams(self) -> list[SObjectStream]:
        connection = SalesforceConnection(self.config, self.logger)
        try:
            return self._sobject_streams(connection)
        except UsageLimitReached as exc:
            # a clean stop before reading anything: no stream, no record, bookmarks untouched
            self.logger.warning("%s", exc)
            return []

    def _sobject_streams(self, connection: SalesforceConnection) -> list[SObjectStream]:
        selection = self.config.get("selection") or {}
        extra = self.config.get("extra_fields") or {}
        streams = []
        for sobject in self.config.get("objects") or OBJECTS:
            if sobject not in OBJECTS:
                raise ConfigValidationError(
                    f"objects: {sobject!r} is not one of {OBJECTS}")
            try:
                chosen = parse(sobject, selection.get(sobject))
            except SelectionError as exc:
                raise ConfigValidationError(str(exc)) from exc
            visible = self._visible_fields(connection, sobject)
            wanted = [*FIELDS[sobject], *extra.get(sobject, []), *chosen.fields]
            hidden = [f for f in REQUIRED[sobject] if f not in visible]
            if hidden:
                raise HiddenField(
                    f"{sobject}.{hidden[0]} is not visible to the Salesforce user of this "
                    f"connection (hidden by Field-Level Security, or it does not exist): "
                    f"{FLS_HINT}.")
            unknown = [f for f in [*extra.get(sobject, []), *chosen.fields] if f not in visible]
            if unknown:
                raise HiddenField(
                    f"{sobject} has no field {unknown[0]!r} visible to this user (named in "
                    f"extra_fields or selection): check the API name, or {FLS_HINT}.")
            fields = {f: visible[f] for f in dict.fromkeys(wanted) if f in visible}
            skipped = [f for f in FIELDS[sobject] if f not in visible and f not in PERSON_FIELDS]
            if skipped:
                self.logger.warning("%s: fields %s are not visible and are not read", sobject,
                                    skipped)
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
        for stream in self.streams.values():
            connection = t.cast("SObjectStream", stream).connection
            self.logger.info("Salesforce calls: %d; %s", connection.calls,
                             connection.usage_text())
            break
