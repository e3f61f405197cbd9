"""tap-activecampaign: ActiveCampaign contacts (list statuses, bounces, tags, field values)
incrementally, and lists."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from api_pacing import FatalError, check_ca_bundle, one_line_exit

from .client import ActiveCampaignStream
from .streams import (
    DEFAULT_DETAIL_READ_LIMIT,
    DEFAULT_SAFETY_MARGIN_SECONDS,
    STREAM_TYPES,
)
from .throttle import RateLimiter, ThrottledSession

DEFAULT_RATE = 4  # ActiveCampaign allows 5 requests a second per account


class TapActiveCampaign(Tap):
    ("Reads ActiveCampaign (API v3) contacts with their list subscription, unsubscribe and "
     "bounce state, incrementally.")

    name = "tap-activecampaign"
    package_name = "consentsync-tap-activecampaign"

    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType, required=True,
                    description="The account's API URL (Settings, Developer) followed by /api/3, "
                                "e.g. https://youraccount.api-us1.com/api/3."),
        th.Property("api_token", th.StringType, required=True, secret=True,
                    description="API key (Settings, Developer), sent as the Api-Token header."),
        th.Property("ca_bundle", th.StringType,
                    description="PEM file of certificate authorities to trust (default: the "
                                "system's, or REQUESTS_CA_BUNDLE)."),
        th.Property("start_date", th.DateTimeType,
                    description="Without state, emit only contacts updated at or after this (and "
                                "every contact unsubscribed or bounced on a list)."),
        th.Property("rate_limit_per_second", th.NumberType, default=DEFAULT_RATE,
                    description="Calls a second the tap allows itself (ActiveCampaign allows 5 "
                                "per account, shared with every other integration)."),
        th.Property("safety_margin_seconds", th.IntegerType,
                    default=DEFAULT_SAFETY_MARGIN_SECONDS,
                    description="Contacts updated up to this long before the bookmark are read "
                                "again, and the bookmark never passes the run's start minus "
                                "this (clock skew, changes made during the run)."),
        th.Property("list_status_changes", th.StringType, default="sweep",
                    allowed_values=["sweep", "udate"],
                    description="'sweep': each run also reads who is unsubscribed or bounced on "
                                "every list, so a list-status change that does not move the "
                                "contact's udate is still read; 'udate': trust "
                                "filters[updated_after] alone (only where the account is known "
                                "to move udate on every list-status change)."),
        th.Property("detail_read_limit", th.IntegerType, default=DEFAULT_DETAIL_READ_LIMIT,
                    description="Up to this many changed contacts are always read one by "
                                "one (two calls each, list-status dates included); above it "
                                "the tap counts what a bulk read (every list, tag and field "
                                "value, 100 a call) would cost and takes the cheaper way; "
                                "-1 always reads in bulk."),
    ).to_dict()

    @cached_property
    def http_session(self) -> ThrottledSession:
        """The one session all streams share, spaced at rate_limit_per_second."""
        rate = float(self.config.get("rate_limit_per_second") or DEFAULT_RATE)
        return ThrottledSession(RateLimiter(rate))

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
            self.logger.info("ActiveCampaign calls: %d", self.http_session.calls)
            self.http_session.close()

    def run_sync_dry_run(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().run_sync_dry_run(*args, **kwargs)
        finally:
            self.http_session.close()

    def discover_streams(self) -> list[ActiveCampaignStream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]


if __name__ == "__main__":
    TapActiveCampaign.cli()
