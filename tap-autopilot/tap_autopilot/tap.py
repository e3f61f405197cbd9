"""tap-autopilot: Autopilot contacts (unsubscribes, hard bounces, lists), incrementally."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from api_pacing import FatalError, check_ca_bundle, one_line_exit, shared_bucket

from .streams import (
    DEFAULT_FULL_SCAN_HOURS,
    DEFAULT_SAFETY_MARGIN_SECONDS,
    STREAM_TYPES,
    AutopilotStream,
)
from .throttle import ThrottledSession


class TapAutopilot(Tap):
    ("Reads Autopilot (REST API v1) contacts with their unsubscribe and bounce state, "
     "incrementally, optionally from REST hook events stored by autopilot-hook-receiver.")

    name = "tap-autopilot"
    package_name = "consentsync-tap-autopilot"

    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, required=True, secret=True,
                    description="Autopilot API key, sent as the autopilotapikey header."),
        th.Property("base_url", th.StringType, default="https://api2.autopilothq.com/v1",
                    description="Autopilot API base URL, ending in /v1."),
        th.Property("ca_bundle", th.StringType,
                    description="PEM file of certificate authorities to trust (default: the "
                                "system's, or REQUESTS_CA_BUNDLE)."),
        th.Property("start_date", th.DateTimeType,
                    description="Without state, emit only contacts updated at or after this."),
        th.Property("rate_limit_per_second", th.NumberType, default=5,
                    description="Autopilot's rate limit (5 a second documented); the tap paces "
                                "its calls at 90 % of it, so none is refused with 429."),
        th.Property("safety_margin_seconds", th.IntegerType,
                    default=DEFAULT_SAFETY_MARGIN_SECONDS,
                    description="The contacts bookmark never passes the scan's start minus this "
                                "margin (covers clock skew and changes made during the scan)."),
        th.Property("events_db", th.StringType,
                    description="The SQLite file `autopilot-hook-receiver` writes Autopilot's "
                                "REST hook events to. Set: a run reads only the contacts the "
                                "new events name (one call each), plus a full scan every "
                                "full_scan_interval_hours. Unset: every run is a full scan."),
        th.Property("full_scan_interval_hours", th.NumberType, default=DEFAULT_FULL_SCAN_HOURS,
                    description="With events_db: hours between full scans, the safety net for "
                                "hooks Autopilot failed to deliver or dropped (a receiver "
                                "restart also brings one forward)."),
    ).to_dict()

    @cached_property
    def http_session(self) -> ThrottledSession:
        """The one session all streams share, spaced at rate_limit_per_second."""
        return ThrottledSession(shared_bucket(float(self.config.get("rate_limit_per_second", 5))))

    # Both ways a run ends close the session: no idle connection is left to the server.
    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """A refused call, a failed connection or a wrong setting ends in one line."""
        with one_line_exit(cls.logger, FatalAPIError, RetriableAPIError):
            super().invoke(*args, **kwargs)

    def sync_all(self) -> None:
        bad_ca = check_ca_bundle(self.config.get("ca_bundle"))
        if bad_ca:
            raise FatalError(bad_ca)
        try:
            super().sync_all()
        finally:
            self.http_session.close()

    def run_sync_dry_run(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().run_sync_dry_run(*args, **kwargs)
        finally:
            self.http_session.close()

    def discover_streams(self) -> list[AutopilotStream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]


if __name__ == "__main__":
    TapAutopilot.cli()
