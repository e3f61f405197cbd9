"""Values of mapped fields in one comparable form, converted as each system stores them.

The Salesforce field's type (from the CRM stream's schema: boolean, integer, number, date,
date-time, string) decides the form. Autopilot documents its custom field types `string`,
`integer`, `float`, `boolean`, `date`; its boolean values may read back as "True"/"False" text
and dates as ISO text or epoch milliseconds, so readings are parsed tolerantly. Empty values
(None, "") are one value: ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from consent_mapper.timestamps import utc

KINDS = ("boolean", "integer", "number", "date", "date-time", "string")


class Unconvertible(ValueError):
    """A platform value the Salesforce field's type cannot hold."""


def kind_of(schema: Mapping[str, Any]) -> str:
    """A JSON schema property (singer-sdk style) as one of :data:`KINDS`."""
    types = schema.get("type") or []
    types = [types] if isinstance(types, str) else list(types)
    if "boolean" in types:
        return "boolean"
    if "integer" in types:
        return "integer"
    if "number" in types:
        return "number"
    if schema.get("format") == "date":
        return "date"
    if schema.get("format") == "date-time":
        return "date-time"
    return "string"


def canonical(value: object, kind: str) -> Any:  # noqa: ANN401 - a JSON scalar
    """The comparable form of a value for a field of ``kind``; raises :class:`Unconvertible`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false", "1", "0", "yes", "no"):
            return text in ("true", "1", "yes")
        raise Unconvertible(f"{value!r} is not true or false")
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            raise Unconvertible(f"{value!r} is not a number")
        try:
            number = float(str(value).strip())
        except ValueError as exc:
            raise Unconvertible(f"{value!r} is not a number") from exc
        if kind == "integer":
            if not number.is_integer():
                raise Unconvertible(f"{value!r} is not a whole number")
            return int(number)
        return number
    if kind == "date":
        return _moment(value).date().isoformat() if not _is_date_text(value) else \
            str(value).strip()[:10]
    if kind == "date-time":
        return utc(_moment(value).isoformat())
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def encode(value: object) -> str:
    """Ledger text of a canonical value (JSON; "null" is an empty value)."""
    return json.dumps(value, sort_keys=True)


def decode(text: str | None) -> Any:  # noqa: ANN401
    return None if text is None else json.loads(text)


def shown(value: object) -> str:
    """A value as the audit trail and the log name it."""
    return "empty" if value is None else repr(value)


def platform_value(value: object, kind: str) -> Any:  # noqa: ANN401
    """What target-autopilot is sent: booleans and numbers as JSON, dates as ISO text (its
    field type is learned from the first value: boolean, integer, float, date, string)."""
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return value  # stays float: an integer would make a new Autopilot field "integer"
    return value


def _is_date_text(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value.strip()[:10])
    except ValueError:
        return False
    return True


def _moment(value: object) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)  # epoch milliseconds
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            moment = parsedate_to_datetime(text)  # RFC 1123, older Autopilot data
        except (TypeError, ValueError) as exc:
            raise Unconvertible(f"{value!r} is not a date") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
