"""A person's profile for the platform, folded from every live CRM record of one run.

Not consent (that is the rule book's): the fields and lists the platform contact carries. Per
field the most recently modified record wins and older ones fill gaps; lists are the union.
Kept small: a run holds one of these per person until its input ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Profile:
    lists: tuple[str, ...] = ()
    exit_lists: tuple[str, ...] = ()  # lists of records that were deleted or left the selection
    fields: dict[str, Any] | None = None
    custom_fields: dict[str, Any] | None = None
    changed_at: str = ""
    objects: tuple[str, ...] = ()  # the kinds of CRM record the person has (Lead, Contact, ...)
    converted: bool = False  # one of them is a Lead converted into a Contact
    list_objects: tuple[tuple[str, str], ...] = ()  # (kind of CRM record, the list it gave)

    def add(self, list_name: str | None, fields: Mapping[str, Any],
            custom_fields: Mapping[str, Any], changed_at: str, obj: str | None = None) -> None:
        if obj is not None and obj not in self.objects:
            self.objects = (*self.objects, obj)
        if list_name is not None and list_name not in self.lists:
            self.lists = (*self.lists, list_name)
        if obj is not None and list_name is not None and (obj, list_name) not in \
                self.list_objects:
            self.list_objects = (*self.list_objects, (obj, list_name))
        newer = changed_at >= self.changed_at
        self.fields = _merge(self.fields, fields, newer)
        self.custom_fields = _merge(self.custom_fields, custom_fields, newer)
        self.changed_at = max(self.changed_at, changed_at)


    @property
    def contributed(self) -> bool:
        """A live record of the run gave the profile something."""
        return bool(self.lists or self.fields or self.custom_fields)

    def exit(self, list_name: str | None) -> None:
        if list_name is not None and list_name not in self.exit_lists:
            self.exit_lists = (*self.exit_lists, list_name)

    def lists_to_leave(self) -> list[str]:
        return sorted(set(self.exit_lists) - set(self.lists))


def _merge(into: dict[str, Any] | None, values: Mapping[str, Any],
           newer: bool) -> dict[str, Any] | None:
    """The newest record's non-empty values win; older records only fill gaps."""
    for name, value in values.items():
        if value is None or value == "":
            continue
        if into is None:
            into = {}
        if newer or name not in into:
            into[name] = value
    return into


def merge_docs(older: Mapping[str, Any], newer: Mapping[str, Any]) -> dict[str, Any]:
    """Two profile documents of a platform as one: the newer's values win, nested fields merge
    and lists are the union (a profile held back, then a newer one of another record)."""
    out: dict[str, Any] = dict(older)
    for name, value in newer.items():
        kept = out.get(name)
        if isinstance(kept, Mapping) and isinstance(value, Mapping):
            out[name] = {**kept, **value}
        elif isinstance(kept, list) and isinstance(value, list):
            out[name] = sorted({*kept, *value}, key=str)
        else:
            out[name] = value
    return out
