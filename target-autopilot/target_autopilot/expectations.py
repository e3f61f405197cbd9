"""Compare-and-set for Autopilot, whose upsert has no condition of its own.

A record may carry ``_expected``: field name (a standard field, or a custom field's name) ->
the value the sender last saw there. Before the upsert the target reads the contact (one call
per such record) and leaves out of the write every named field whose value moved on since, so a
sender deciding on an older reading never overwrites a change made in Autopilot meanwhile. The
rest of the record (consent, other fields) is written as usual; the sender sees the change at
its next read and decides again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .client import AutopilotClient, in_path

EXPECTED = "_expected"


def guard(client: AutopilotClient, record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The record without its stale guarded fields, and what was found in their place."""
    expected = record.get(EXPECTED)
    if not isinstance(expected, Mapping) or not expected:
        return record, []
    found = client.request("GET", f"/contact/{in_path(str(record['Email']).strip())}",
                           ok_statuses=(404,))
    if not isinstance(found, dict) or "contact_id" not in found:
        return record, []  # no contact yet: nothing can have changed there
    custom = {str(c.get("kind")): c.get("value") for c in found.get("custom_fields") or []
              if isinstance(c, Mapping)}
    stale: list[str] = []
    guarded = dict(record)
    fields = dict(record.get("custom_fields") or {})
    for name, want in expected.items():
        have = custom[name] if name in custom else found.get(name)
        if same(have, want):
            continue
        stale.append(f"{name} is {have!r}, expected {want!r}")
        fields.pop(name, None)
        guarded.pop(name, None)
    if fields or "custom_fields" in record:
        guarded["custom_fields"] = fields or None
    return guarded, stale


def same(have: object, want: object) -> bool:
    """Equal as values of Autopilot's field types (null and '' alike, "True" a boolean,
    numbers by value, timestamps by instant)."""
    if have in (None, "") or want in (None, ""):
        return have in (None, "") and want in (None, "")
    have, want = _plain(have), _plain(want)
    if isinstance(have, bool) or isinstance(want, bool):
        return have is want
    if isinstance(have, int | float) and isinstance(want, int | float):
        return float(have) == float(want)
    if isinstance(have, str) and isinstance(want, str):
        if have == want:
            return True
        moments = _instant(have), _instant(want)
        return None not in moments and moments[0] == moments[1]
    return have == want


def _plain(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(text.strip()) == 10:  # a date: compared as that day
        return moment.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
