"""ActiveCampaign objects as the `contacts` and `lists` records of the output contract."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

ZERO_DATES = ("0000-00-00", "0000-00-00 00:00:00", "0000-00-00T00:00:00")


class TimestampError(ValueError):
    """A timestamp the tap cannot read; the message names it."""


def parse_time(value: object) -> datetime | None:
    """`2018-09-12T17:00:00-05:00` (with the account's offset) as UTC; zero dates are None.

    A value without a zone is taken as UTC: only the `*_utc_timestamp` fields lack one here.
    """
    if value in (None, "") or value in ZERO_DATES:
        return None
    text = str(value).strip().replace(" ", "T").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TimestampError(f"{value!r} is not an ISO-8601 timestamp") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def format_time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _count(value: object) -> int:
    try:
        return int(str(value or 0))
    except ValueError:
        return 0


def _blank(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def contact_record(contact: dict[str, Any], memberships: list[dict], tags: list[str],
                   values: list[dict]) -> dict[str, Any]:
    """One `contacts` record; `memberships` are `{list_id, status, updated_at}` dicts."""
    who = f"contact {contact.get('id')} ({contact.get('email') or 'no email'})"
    try:
        cdate, udate = parse_time(contact.get("cdate")), parse_time(contact.get("udate"))
    except TimestampError as exc:
        raise TimestampError(f"{who}: {exc}") from exc
    bounced_date = contact.get("bounced_date")
    return {
        "id": str(contact["id"]),
        "email": contact.get("email"),
        "first_name": _blank(contact.get("firstName")),
        "last_name": _blank(contact.get("lastName")),
        "phone": _blank(contact.get("phone")),
        "orgname": _blank(contact.get("orgname")),
        "cdate": format_time(cdate),
        "udate": format_time(udate or cdate),
        "bounced_hard": _count(contact.get("bounced_hard")),
        "bounced_soft": _count(contact.get("bounced_soft")),
        "bounced_date": None if bounced_date in (None, "", *ZERO_DATES) else str(bounced_date),
        "lists": sorted(memberships, key=lambda m: int(m["list_id"])),
        "tags": sorted(set(tags)),
        "field_values": sorted(values, key=lambda v: int(v["field_id"])),
    }


def membership(list_id: object, status: object, updated_at: object = None) -> dict[str, Any]:
    return {"list_id": str(list_id), "status": _count(status),
            "updated_at": format_time(parse_time(updated_at))}


def list_record(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "name": row.get("name"), "stringid": row.get("stringid"),
            "cdate": format_time(parse_time(row.get("cdate")))}
