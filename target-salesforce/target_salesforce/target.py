"""target-salesforce: writes Singer records onto Salesforce Leads, Contacts, Accounts, ..."""

from __future__ import annotations

from typing import Any

from singer_sdk import Target
from singer_sdk import typing as th

from consentsync_salesforce import SalesforceSessionError, connection_properties

from .client import SalesforceClient
from .creates import DEFAULT_CREATE_UNLESS_FOUND
from .errors import RecordsRejectedError, TargetSalesforceError
from .failures import FailureLog
from .sinks import DEFAULT_BATCH_SIZE, DEFAULT_BULK_THRESHOLD, SalesforceSink

DEFAULT_MATCH_FIELDS = {"Lead": "Email", "Contact": "Email", "Account": "PersonEmail"}


class TargetSalesforce(Target):
    ("Updates Salesforce records by Id or match field, or upserts them by external id (REST "
     "composite or Bulk API 2.0); every write is safe to replay.")

    name = "target-salesforce"
    package_name = "consentsync-target-salesforce"
    default_sink_class = SalesforceSink

    config_jsonschema = th.PropertiesList(
        *connection_properties(),
        th.Property("match_fields", th.ObjectType(additional_properties=th.StringType),
                    default=DEFAULT_MATCH_FIELDS,
                    description="Per sObject, the field a record without Id is matched on; "
                                "every record with that value (case-blind) is updated. "
                                "Replaces the default map."),
        th.Property("bulk_threshold", th.IntegerType(minimum=0), default=DEFAULT_BULK_THRESHOLD,
                    description="Writes of one batch (batch_size_rows, default "
                                f"{DEFAULT_BATCH_SIZE}) from which they go through one Bulk API "
                                "2.0 ingest job instead of sObject Collections calls; 0: never."),
        th.Property("external_id_fields", th.ObjectType(additional_properties=th.StringType),
                    default={},
                    description="Per sObject, an external id field: records with neither Id "
                                "nor match value are upserted by it."),
        th.Property("create_unless_found", th.ObjectType(
                        additional_properties=th.ArrayType(th.StringType)),
                    default=DEFAULT_CREATE_UNLESS_FOUND,
                    description="Per sObject, where a record marked `_create: true` is looked "
                                "for (\"Object.Field\" holding its match value, case-blind) "
                                "before it is inserted; found anywhere: nothing is created. "
                                "The stream's own match field is always looked in."),
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
        except (TargetSalesforceError, SalesforceSessionError) as exc:
            cls.logger.error("%s", exc)  # noqa: TRY400 - the message is the whole story
            raise SystemExit(1) from None

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self.flush_all()  # when no STATE message came, nothing flushed yet
        if self.failures:
            raise RecordsRejectedError(self.failures.summary())


if __name__ == "__main__":
    TargetSalesforce.cli()
