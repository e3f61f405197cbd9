"""The titles of a contact's lists, beside their ids: users name lists by title, a contact
carries ids. One `GET /lists` per run, made only when a contact on a list is emitted (an idle
run makes no call), and made again once when a contact names a list created since."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ReadLists = Callable[[], list[dict[str, Any]]]


class ListTitles:
    def __init__(self, read: ReadLists) -> None:
        self._read = read
        self._titles: dict[str, str] | None = None
        self._reread = False

    def of(self, list_ids: list[str]) -> list[str]:
        """The titles of ``list_ids`` in their order; an id no list has is left out."""
        if not list_ids:
            return []
        if self._titles is None or (not self._reread
                                    and any(i not in self._titles for i in list_ids)):
            self._reread = self._titles is not None
            self._titles = {str(row.get("list_id")): str(row.get("title") or "")
                            for row in self._read()}
        return [self._titles[i] for i in list_ids if i in self._titles]

    def add_to(self, record: dict[str, Any]) -> dict[str, Any]:
        record["list_titles"] = self.of(list(record.get("lists") or []))
        return record
