"""target-salesforce: writes Singer records onto Salesforce Leads, Contacts, Accounts, ..."""

from __future__ import annotations

from typing import Any

from singer_sdk import Target
from singer_sdk import typing as th

from .auth import DEFAULT_LOGIN_URL
from .client import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_API_USAGE_PERCENT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_BACKOFF_SECONDS,
    SalesforceClient,
)
from .errors import RecordsRejectedError, TargetSalesforceError
from .failures import FailureLog
from .sinks import SalesforceSink

DEFAULT_MATCH_FIELDS = {"Lead": "Email", "Contact": "Email", "Account": "PersonEmail"}


class TargetSalesforce(Target):
    """Updates Salesforce records by Id or match field, or upserts them by external id."""

    name = "target-salesforce"
    default_sink_class = SalesforceSink

    config_jsonschema = th.PropertiesList(
        th.Property("instance_url", th.StringType,
                    description="Org URL, e.g. https://acme.my.salesforce.com; used when the "
                                "token answer carries none."),
        th.Property("login_url", th.StringType, default=DEFAULT_LOGIN_URL,
                    description="Where tokens come from: https://login.salesforce.com, "
                                "https://test.salesforce.com or a My Domain URL."),
        th.Property("client_id", th.StringType, description="Connected app consumer key."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="Connected app consumer secret."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token (refresh_token grant)."),
        th.Property("username", th.StringType,
                    description="Integration user (password grant, when no refresh_token)."),
        th.Property("password", th.StringType, secret=True,
                    description="Password of the integration user (password grant)."),
        th.Property("security_token", th.StringType, secret=True,
                    description="Security token, appended to the password (password grant)."),
        th.Property("api_version", th.StringType, default=DEFAULT_API_VERSION,
                    description="REST API version, e.g. 62.0."),
        th.Property("ca_bundle", th.StringType,
                    description="PEM file of certificate authorities to trust instead of the "
                                "system ones."),
        th.Property("match_fields", th.ObjectType(additional_properties=th.StringType),
                    default=DEFAULT_MATCH_FIELDS,
                    description="Per sObject, the field a record without Id is matched on; "
                                "every record with that value (case-blind) is updated. "
                                "Replaces the default map."),
        th.Property("external_id_fields", th.ObjectType(additional_properties=th.StringType),
                    default={},
                    description="Per sObject, an external id field: records with neither Id "
                                "nor match value are upserted by it."),
        th.Property("max_api_usage_percent", th.IntegerType,
                    default=DEFAULT_MAX_API_USAGE_PERCENT,
                    description="Stop before the org's 24-hour API usage passes this share."),
        th.Property("max_retries", th.IntegerType, default=DEFAULT_MAX_RETRIES,
                    description="Retries of a call or record that failed for a passing reason "
                                "(UNABLE_TO_LOCK_ROW, 5xx, timeout, dropped connection)."),
        th.Property("retry_backoff_seconds", th.NumberType,
                    default=DEFAULT_RETRY_BACKOFF_SECONDS,
                    description="First retry delay; doubles each retry (at most 60s)."),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # one session for all sinks; parallel writes would also fight over row locks
        self.max_parallelism = 1
        self.failures = FailureLog()
        self._client: SalesforceClient | None = None
        self._all_sinks: list[SalesforceSink] = []  # replaced ones too, until flushed

    @property
    def client(self) -> SalesforceClient:
        if self._client is None:
            self._client = SalesforceClient(self.config, self.logger)
        return self._client

    def register_sink(self, sink: SalesforceSink) -> None:
        self._all_sinks.append(sink)

    def flush_all(self) -> None:
        for sink in self._all_sinks:
            sink.flush()

    def _write_state_message(self, state: dict) -> None:
        # called once every sink drained; held-back updates go first
        self.flush_all()
        # a rejected record must be sent again next run: hold the state back from then on
        if self.failures:
            self.logger.warning("State not emitted: %d records were rejected in this run",
                                len(self.failures))
            return
        super()._write_state_message(state)

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Errors of this target end the run with their message alone: no traceback."""
        try:
            super().invoke(*args, **kwargs)
        except TargetSalesforceError as exc:
            cls.logger.error("%s", exc)  # noqa: TRY400 - the message is the whole story
            raise SystemExit(1) from None

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self.flush_all()  # when no STATE message came, nothing flushed yet
        if self.failures:
            raise RecordsRejectedError(self.failures.summary())


if __name__ == "__main__":
    TargetSalesforce.cli()
