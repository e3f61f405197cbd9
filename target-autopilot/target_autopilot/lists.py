"""Autopilot lists by name (read once per run, created on first need) and their members.

Joining or leaving costs one call per contact and list. To skip calls that change nothing, the
members of a list are read as the run goes (`GET /list/{id}/contacts`, 100 a page), but never
more pages than the joins and leaves asked of that list so far: a sync that re-sends 10,000
members of a list costs about 100 page reads instead of 10,000 joins, and one join into a big
list costs at most one page read more. A list created in this run starts empty, read for free.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .client import AutopilotClient, AutopilotRejected, in_path

PAGE = 100


@dataclass
class Members:
    """What this run knows of one list's members (emails in lower case)."""

    emails: set[str] = field(default_factory=set)
    bookmark: str | None = None
    complete: bool = False
    pages_read: int = 0
    pages: int | None = None  # from `total_contacts` once the first page is read
    asked: int = 0  # joins and leaves asked of this list so far
    left: set[str] = field(default_factory=set)  # removed by this run: a later page is older


class Lists:
    def __init__(self, client: AutopilotClient,
                 on_created: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.on_created = on_created  # told the id of every list this run creates
        self._ids: dict[str, str] | None = None
        self._members: dict[str, Members] = {}

    def _load(self) -> dict[str, str]:
        body = self.client.request("GET", "/lists") or {}
        self._ids = {row["title"]: row["list_id"] for row in body.get("lists", [])}
        return self._ids

    def known(self, title: str) -> str | None:
        ids = self._ids if self._ids is not None else self._load()
        return ids.get(title)

    def id_of(self, title: str) -> str:
        """The list's id, creating the list when no list has that title."""
        list_id = self.known(title)
        if list_id is not None:
            return list_id
        try:
            list_id = self.client.request("POST", "/list", json={"name": title})["list_id"]
            self._members[list_id] = Members(complete=True)
            if self.on_created:
                self.on_created(list_id)
        except AutopilotRejected as exc:
            if exc.status != 409:
                raise
            list_id = self._load()[title]  # created meanwhile by someone else
        assert self._ids is not None
        self._ids[title] = list_id
        return list_id

    def add(self, title: str, email: str) -> bool:
        """Join the list; False when the contact is known to be a member already."""
        list_id = self.id_of(title)
        members = self._read(list_id)
        if email.lower() in members.emails:
            return False
        self.client.request("POST", f"/list/{list_id}/contact/{in_path(email)}")
        members.emails.add(email.lower())
        members.left.discard(email.lower())
        return True

    def remove(self, title: str, email: str) -> bool:
        """Leave the list; False when the list does not exist or the contact is known not to
        be in it (a list is never created to be left)."""
        list_id = self.known(title)
        if list_id is None:
            return False
        members = self._read(list_id)
        if members.complete and email.lower() not in members.emails:
            return False
        self.client.request("DELETE", f"/list/{list_id}/contact/{in_path(email)}",
                            ok_statuses=(404,))
        members.emails.discard(email.lower())
        members.left.add(email.lower())
        return True

    def forget(self, email: str) -> None:
        """A deleted contact is in no list any more."""
        for members in self._members.values():
            members.emails.discard(email.lower())
            members.left.add(email.lower())

    def _read(self, list_id: str) -> Members:
        """The list's members as known, after reading as many pages as the asks so far pay for."""
        members = self._members.setdefault(list_id, Members())
        members.asked += 1
        while not members.complete and (members.pages_read == 0 or members.pages is None
                                        and members.pages_read < members.asked
                                        or members.pages is not None
                                        and members.asked >= members.pages):
            self._next_page(list_id, members)
        return members

    def _next_page(self, list_id: str, members: Members) -> None:
        path = f"/list/{list_id}/contacts"
        body = self.client.request("GET", f"{path}/{members.bookmark}" if members.bookmark
                                   else path) or {}
        members.pages_read += 1
        seen = {str(c["Email"]).strip().lower() for c in body.get("contacts", []) if c.get("Email")}
        members.emails.update(seen - members.left)
        if members.pages is None and isinstance(body.get("total_contacts"), int):
            members.pages = max(1, math.ceil(body["total_contacts"] / PAGE))
        members.bookmark = body.get("bookmark")
        members.complete = not members.bookmark
