"""target-autopilot: Autopilot contacts, their unsubscribe state and list membership."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from singer_sdk.target_base import Target

from .client import AutopilotClient
from .lists import Lists
from .sinks import ContactsSink

STREAM = "contacts"


class RecordsFailed(Exception):
    pass


class TargetAutopilot(Target):
    name = "target-autopilot"
    package_name = "consentsync-target-autopilot"
    default_sink_class = ContactsSink
    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, required=True, secret=True,
                    description="Autopilot API key (Settings, Autopilot API), sent as the "
                                "`autopilotapikey` header."),
        th.Property("base_url", th.StringType, default="https://api2.autopilothq.com/v1",
                    description="Autopilot REST API v1 base URL."),
        th.Property("ca_bundle", th.StringType,
                    description="PEM file of certificate authorities to trust instead of the "
                                "system ones (TLS is always verified)."),
        th.Property("rate_limit_per_second", th.NumberType, default=5,
                    description="Calls a second this target allows itself (Autopilot allows 5); "
                                "429 answers are retried after a back-off."),
        th.Property("max_retries", th.IntegerType, default=5,
                    description="Retries of a call answered 429 or 5xx, or that timed out."),
        th.Property("list_membership", th.StringType, default="on_create",
                    allowed_values=["on_create", "always"],
                    description="'on_create': a new contact joins the first list of its record "
                                "through the upsert itself (no extra call), further lists with "
                                "one call each; 'always': one call per contact and list, so "
                                "existing contacts join their lists too."),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = AutopilotClient(
            self.config.get("base_url") or "https://api2.autopilothq.com/v1",
            self.config["api_key"], self.config.get("ca_bundle"),
            float(self.config.get("rate_limit_per_second") or 5),
            int(self.config.get("max_retries", 5)))
        self.lists = Lists(self.client)
        self._field_types: dict[str, str] | None = None
        self.failures: list[tuple[str, str]] = []

    def get_sink_class(self, stream_name: str) -> type[ContactsSink]:
        if stream_name != STREAM:
            raise ValueError(
                f"stream {stream_name!r} is not supported: target-autopilot writes the "
                f"'{STREAM}' stream only (map your stream's name to '{STREAM}')")
        return ContactsSink

    def field_types(self, client: AutopilotClient) -> dict[str, str]:
        """Custom field name -> type, read once per run (new names are typed by value)."""
        if self._field_types is None:
            rows = client.request("GET", "/contacts/custom_fields") or []
            self._field_types = {row["name"]: row["fieldType"] for row in rows}
        return self._field_types

    def failed(self, email: object, reason: str) -> None:
        self.failures.append((str(email), reason))
        self.logger.error("contact %s was not written: %s", email, reason)

    def raise_if_failed(self) -> None:
        if self.failures:
            listed = "; ".join(f"{e}: {r}" for e, r in self.failures[:20])
            raise RecordsFailed(
                f"{len(self.failures)} contact(s) were not written (the others were): {listed}")

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self.logger.info("Autopilot calls: %d", self.client.calls)
