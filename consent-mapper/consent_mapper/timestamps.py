"""Source modstamps in one sortable form: ISO-8601 UTC with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(stamp: str) -> str:
    """Salesforce's ``...+0000`` and Autopilot's ``...Z`` as ``YYYY-MM-DDTHH:MM:SS.mmm+00:00``."""
    if not stamp:
        return ""
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds")
