"""Records of the `contacts` stream (the input contract) as bulk-import contacts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# record key -> bulk import key
PROFILE = {"first_name": "first_name", "last_name": "last_name", "phone": "phone",
           "orgname": "customer_acct_name"}


class BadRecord(ValueError):
    """A record this target will not send; the message names the fix."""


@dataclass
class Contact:
    """One record, checked: what to import and what consent change follows."""

    email: str
    profile: dict[str, str]
    fields: dict[str, Any]
    tags: list[str]
    lists: list[str]
    unsubscribed: bool | None
    resubscribe_lists: list[str]
    contact_id: str | None = None
    delete: bool = False
    field_ids: list[dict] = field(default_factory=list)


def email_of(record: dict) -> str:
    email = record.get("email")
    if not isinstance(email, str) or not EMAIL.match(email.strip()):
        raise BadRecord(f"email {email!r} is not a valid address (name@domain.tld): fix it at "
                        "the source")
    return email.strip()


def _names(record: dict, key: str) -> list[str]:
    value = record.get(key)
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list):
        raise BadRecord(f"{key} must be an array of strings, not {value!r}")
    out = [str(v).strip() for v in value if v is not None and str(v).strip()]
    return list(dict.fromkeys(out))


def _text(value: Any) -> str:  # noqa: ANN401
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def parse(record: dict) -> Contact:
    email = email_of(record)
    unsubscribed = record.get("unsubscribed")
    if unsubscribed is not None and not isinstance(unsubscribed, bool):
        raise BadRecord(f"unsubscribed must be true, false or absent, not {unsubscribed!r}")
    fields = record.get("fields") or {}
    if not isinstance(fields, dict):
        raise BadRecord(f"fields must be an object of field title: value, not {fields!r}")
    contact_id = record.get("id")
    return Contact(
        email=email,
        profile={PROFILE[k]: _text(record[k]) for k in PROFILE if record.get(k) is not None},
        fields={str(k): _text(v) for k, v in fields.items() if v is not None},
        tags=_names(record, "tags"),
        lists=_names(record, "lists"),
        unsubscribed=unsubscribed,
        resubscribe_lists=_names(record, "resubscribe_lists"),
        contact_id=str(contact_id) if contact_id not in (None, "") else None,
        delete=record.get("_delete") is True or bool(record.get("_sdc_deleted_at")),
    )
