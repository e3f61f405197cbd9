"""Autopilot timestamps in any of the forms the API sends, normalised to ISO-8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


class TimestampError(ValueError):
    """A value that is none of ISO-8601, RFC 1123 or epoch milliseconds."""


def parse_timestamp(value: object) -> datetime:
    """Parse ISO-8601, RFC 1123 or epoch milliseconds (int, float or digit string) as UTC."""
    if isinstance(value, bool) or value is None:
        raise TimestampError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str) or not value.strip():
        raise TimestampError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError) as exc:
            raise TimestampError(
                f"not a timestamp: {value!r} (expected ISO-8601, RFC 1123 or epoch milliseconds)"
            ) from exc
    if parsed.tzinfo is None:  # Autopilot's timestamps are UTC when they name no zone
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """One fixed ISO-8601 UTC form, so bookmarks written as strings compare in time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
