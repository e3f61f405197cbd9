"""target-activecampaign: contacts, consent as list statuses, tags and custom fields."""

from __future__ import annotations

import typing as t

import click
from singer_sdk import typing as th
from singer_sdk.target_base import Target

from api_pacing import one_line_exit

from .client import Client, Rejected
from .sinks import ContactsSink
from .writer import AuthError, ContactWriter

STREAM = "contacts"
DEFAULT_RATE = 4  # ActiveCampaign allows 5 requests a second per account


class RecordsFailed(click.ClickException):
    """Some records were not written: the run fails after writing the others."""


class TargetActiveCampaign(Target):
    ("Writes contacts, unsubscribes and list memberships to ActiveCampaign (API v3) by email "
     "address; every write is safe to replay.")

    name = "target-activecampaign"
    package_name = "consentsync-target-activecampaign"
    default_sink_class = ContactsSink
    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType, required=True,
                    description="The account's API URL (Settings, Developer) followed by /api/3."),
        th.Property("api_token", th.StringType, required=True, secret=True,
                    description="API key (Settings, Developer), sent as the Api-Token header; "
                                "never logged."),
        th.Property("ca_bundle", th.StringType,
                    description="PEM file of certificate authorities to trust instead of the "
                                "system ones (TLS is always verified)."),
        th.Property("rate_limit_per_second", th.NumberType, default=DEFAULT_RATE,
                    description="Calls a second this target allows itself (ActiveCampaign "
                                "allows 5 per account)."),
        th.Property("max_retries", th.IntegerType, default=5,
                    description="Retries of a call answered 429 or 5xx, or that failed on the "
                                "network; Retry-After is obeyed."),
        th.Property("retry_backoff_seconds", th.NumberType, default=1,
                    description="First wait before a retry without Retry-After, doubled each "
                                "time (at most 60 s)."),
        th.Property("default_list", th.StringType,
                    description="List id or name a record with `unsubscribed: false` and no "
                                "`resubscribe_lists` is subscribed to again."),
        th.Property("create_missing_fields", th.BooleanType, default=True,
                    description="Create a text custom field for a `fields` key the account does "
                                "not have (matched by id, title or personalization tag); off: "
                                "such a record fails."),
        th.Property("import_poll_seconds", th.NumberType, default=0.5,
                    description="First wait before asking whether a bulk import completed "
                                "(grows 1.5x per poll, at most 10 s)."),
        th.Property("import_timeout_seconds", th.NumberType, default=900,
                    description="How long to wait for one bulk import to complete."),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = Client(
            self.config["api_url"], self.config["api_token"], self.config.get("ca_bundle"),
            float(self.config.get("rate_limit_per_second") or DEFAULT_RATE),
            int(self.config.get("max_retries", 5)),
            float(self.config.get("retry_backoff_seconds", 1)))
        self.writer = ContactWriter(
            self.client, self.config.get("default_list") or None,
            bool(self.config.get("create_missing_fields", True)),
            float(self.config.get("import_poll_seconds", 0.5)),
            float(self.config.get("import_timeout_seconds", 900)))
        self._state_withheld = False

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Fatal errors (a wrong URL, CA bundle or key; the API down) end in one line."""
        with one_line_exit(cls.logger, AuthError, Rejected):
            super().invoke(*args, **kwargs)

    def get_sink_class(self, stream_name: str) -> type[ContactsSink]:
        if stream_name != STREAM:
            raise ValueError(
                f"stream {stream_name!r} is not supported: target-activecampaign writes the "
                f"'{STREAM}' stream only (alias yours with stream_maps: "
                f'{{"{stream_name}": {{"__alias__": "{STREAM}"}}}})')
        return ContactsSink

    def _write_state_message(self, state: dict) -> None:
        # a bookmark emitted after a failed record would let the next run skip it
        if self.writer.failures:
            if not self._state_withheld:
                self.logger.warning("state withheld from now on: %d record(s) failed",
                                    len(self.writer.failures))
            self._state_withheld = True
            return
        super()._write_state_message(state)

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        w = self.writer
        self.logger.info("ActiveCampaign: %d contacts imported, %d re-subscribed, %d deleted, "
                         "%d failed, %d calls", w.written, w.resubscribed, w.deleted,
                         len(w.failures), self.client.calls)
        if w.failures:
            listed = "\n".join(f"  {f.email}: {f.reason}" for f in w.failures[:50])
            more = f"\n  ... and {len(w.failures) - 50} more" if len(w.failures) > 50 else ""
            raise RecordsFailed(
                f"{len(w.failures)} record(s) failed (the others were written; no state was "
                f"emitted after the first failure):\n{listed}{more}")


if __name__ == "__main__":
    TargetActiveCampaign.cli()
