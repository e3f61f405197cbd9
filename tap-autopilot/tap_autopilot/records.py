"""Turns an Autopilot contact as read into the `contacts` record of the output contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .timestamps import TimestampError, format_timestamp, parse_timestamp

# Standard fields named in the API facts; other standard or unknown keys are left out.
STANDARD_FIELDS = (
    "Email", "FirstName", "LastName", "Company", "Phone", "LeadSource", "Status",
    "MailingCountry",
)
SYSTEM_FIELDS = ("contact_id", "owner_name")
TIMESTAMP_FIELDS = ("created_at", "updated_at")
# the mail history Autopilot keeps on a contact: `mail_<type>` objects of mail id -> epoch ms
MAIL_EVENT_TYPES = ("received", "opened", "clicked", "bounced", "hardbounced", "complained",
                    "unsubscribed")


class ContactError(ValueError):
    """A contact the tap cannot turn into a record; the message names the contact."""


def _who(raw: dict[str, Any]) -> str:
    return f"contact {raw.get('contact_id') or '?'} ({raw.get('Email') or 'no Email'})"


def latest_hard_bounce(mail_hardbounced: object) -> datetime | None:
    """The newest entry of `mail_hardbounced` (mail id -> epoch ms), or None when empty."""
    if not mail_hardbounced:
        return None
    if isinstance(mail_hardbounced, dict):
        values = list(mail_hardbounced.values())
    elif isinstance(mail_hardbounced, list):
        values = mail_hardbounced
    else:
        raise TimestampError(f"mail_hardbounced is neither an object nor a list: "
                             f"{mail_hardbounced!r}")
    moments = [parse_timestamp(v) for v in values if v not in (None, "")]
    return max(moments) if moments else None


def contact_record(raw: dict[str, Any]) -> dict[str, Any]:
    """Pick the contract fields of one contact and normalise its timestamps to ISO-8601 UTC."""
    record: dict[str, Any] = {key: raw.get(key) for key in (*SYSTEM_FIELDS, *STANDARD_FIELDS)}
    if not record["contact_id"]:
        raise ContactError(f"{_who(raw)} has no contact_id; Autopilot always sends one, so the "
                           "base_url probably points at something that is not Autopilot")
    unsubscribed = raw.get("unsubscribed")
    record["unsubscribed"] = None if unsubscribed is None else bool(unsubscribed)
    record["lists"] = list(raw.get("lists") or [])
    record["custom_fields"] = list(raw.get("custom_fields") or [])
    for key in TIMESTAMP_FIELDS:
        value = raw.get(key)
        try:
            record[key] = None if value in (None, "") else format_timestamp(parse_timestamp(value))
        except TimestampError as exc:
            raise ContactError(f"{_who(raw)}: field {key}: {exc}") from exc
    try:
        bounced_at = latest_hard_bounce(raw.get("mail_hardbounced"))
    except TimestampError as exc:
        raise ContactError(f"{_who(raw)}: field mail_hardbounced: {exc}") from exc
    record["hard_bounced"] = bool(raw.get("mail_hardbounced"))
    record["hard_bounced_at"] = format_timestamp(bounced_at) if bounced_at else None
    record["mail_events"] = mail_events(raw)
    return record


def mail_events(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Every entry of the contact's mail history as {type, mail_id, at}, oldest first."""
    events = []
    for kind in MAIL_EVENT_TYPES:
        history = raw.get(f"mail_{kind}")
        if not history:
            continue
        if not isinstance(history, dict):
            raise ContactError(f"{_who(raw)}: field mail_{kind} is not an object of mail id -> "
                               f"time: {history!r}")
        for mail_id, value in history.items():
            try:
                at = None if value in (None, "") else format_timestamp(parse_timestamp(value))
            except TimestampError as exc:
                raise ContactError(f"{_who(raw)}: field mail_{kind}[{mail_id}]: {exc}") from exc
            events.append({"type": kind, "mail_id": str(mail_id), "at": at})
    return sorted(events, key=lambda e: (e["at"] or "", e["type"], e["mail_id"]))
