"""target-autopilot: Autopilot contacts, their unsubscribe state and list membership."""

from __future__ import annotations

import typing as t

import click
from singer_sdk import typing as th
from singer_sdk.target_base import Target

from api_pacing import one_line_exit

from .client import AutopilotClient, AutopilotRejected
from .sinks import ContactsSink
from .writer import AutopilotAuthError, ContactWriter

STREAM = "contacts"
DEFAULT_BASE_URL = "https://api2.autopilothq.com/v1"


class RecordsFailed(click.ClickException):
    """Some records were not written: the run fails after writing the others."""


class TargetAutopilot(Target):
    ("Writes contacts, unsubscribes and list memberships to Autopilot (REST API v1) by email "
     "address; every write is safe to replay.")

    name = "target-autopilot"
    package_name = "consentsync-target-autopilot"
    default_sink_class = ContactsSink
    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, required=True, secret=True,
                    description="Autopilot API key (Settings, Autopilot API), sent as the "
                                "`autopilotapikey` header; never logged."),
        th.Property("base_url", th.StringType, default=DEFAULT_BASE_URL,
                    description="Autopilot REST API v1 base URL."),
        th.Property("ca_bundle", th.StringType,
                    description="PEM file of certificate authorities to trust instead of the "
                                "system ones (TLS is always verified)."),
        th.Property("rate_limit_per_second", th.NumberType, default=5,
                    description="Calls a second this target allows itself, spaced evenly over "
                                "every call of the run (Autopilot allows 5)."),
        th.Property("max_retries", th.IntegerType, default=5,
                    description="Retries of a call answered 429 or 5xx, or that failed on the "
                                "network or timed out; writes are idempotent upserts."),
        th.Property("retry_backoff_seconds", th.NumberType, default=1,
                    description="First wait before a retry, doubled each time (at most 60 s); "
                                "a `Retry-After` header is obeyed instead when present."),
        th.Property("list_membership", th.StringType, default="checked",
                    allowed_values=["checked", "always", "on_create"],
                    description="'checked': a contact not known to be in a list joins it inside "
                                "the bulk upsert (`_autopilot_list`, which Autopilot applies to "
                                "new contacts); the list's member count, read before every STATE "
                                "and at the end, shows whether all did, and only contacts that "
                                "already existed are then joined by call (a first load costs no "
                                "call per contact). 'always': one call per contact and list not "
                                "known to be a member. 'on_create': like 'checked' without the "
                                "check: existing contacts never join; only for an account that "
                                "holds none of these contacts yet."),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = AutopilotClient(
            self.config.get("base_url") or DEFAULT_BASE_URL,
            self.config["api_key"], self.config.get("ca_bundle"),
            float(self.config.get("rate_limit_per_second") or 5),
            int(self.config.get("max_retries", 5)),
            float(self.config.get("retry_backoff_seconds", 1)))
        self.writer = ContactWriter(self.client, self.config.get("list_membership") or "checked")
        self._state_withheld = False

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Fatal errors (a wrong URL, CA bundle or key; the API down) end in one line."""
        with one_line_exit(cls.logger, AutopilotAuthError, AutopilotRejected):
            super().invoke(*args, **kwargs)

    def get_sink_class(self, stream_name: str) -> type[ContactsSink]:
        if stream_name != STREAM:
            raise ValueError(
                f"stream {stream_name!r} is not supported: target-autopilot writes the "
                f"'{STREAM}' stream only (alias yours with stream_maps: "
                f'{{"{stream_name}": {{"__alias__": "{STREAM}"}}}})')
        return ContactsSink

    def _write_state_message(self, state: dict) -> None:
        # joins riding on upserts are only sure once checked: the bookmark must not pass them
        if not self.writer.failures:
            self.writer.settle()
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
        self.writer.settle()  # a run without STATE messages
        w = self.writer
        self.logger.info("Autopilot: %d contacts upserted, %d deleted, %d failed, %d calls",
                         w.written, w.deleted, len(w.failures), self.client.calls)
        if w.failures:
            listed = "\n".join(f"  {f.email}: {f.reason}" for f in w.failures[:50])
            more = f"\n  ... and {len(w.failures) - 50} more" if len(w.failures) > 50 else ""
            raise RecordsFailed(
                f"{len(w.failures)} record(s) failed (the others were written; no state was "
                f"emitted after the first failure):\n{listed}{more}")
