"""List membership at the cost of the bulk upserts (`list_membership: checked`).

A contact that is not known to be in a list is sent with `_autopilot_list` in its upsert:
Autopilot joins it to that list when the upsert creates it, and does nothing for a contact that
already existed. Which of the two happened is not in the answer, so the list's member count is
read once (`total_contacts`, first page of `GET /list/{id}/contacts`) when the joins are settled
(before every STATE and at the end of the run): count = count before + contacts sent means every
one of them joined. Otherwise the ones not seen among the members are joined by one call each,
or, when that would cost more calls than reading the list, the list is read and only the missing
ones are joined. A second list of the same contact cannot ride on the upsert: it is joined at the
settle the same way, except that a list the run knows whole (created by it, or read whole) is not
read again for them: they are known to be missing. A first load of 10,000 new contacts into one
list costs its 100 upserts plus two calls.

Membership changed by someone else between the count reads can hide a missing join only if it
adds exactly as many members as joins were missed; the next run's settle sees it again.

The members known are a cache of at most MAX_KNOWN addresses a list (a first load of a million
would otherwise hold them all): past it they are forgotten, and the list counts as not read
whole. A contact sent again in the same run then rides on its upsert and is checked at the
settle like any other; nothing is missed, at worst a join or leave costs its call.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .client import AutopilotClient, AutopilotRejected, in_path

PAGE = 100
MAX_KNOWN = 100_000  # addresses remembered a list (~10 MB); the count stays exact past it
log = logging.getLogger("target-autopilot")
Refused = Callable[[str, AutopilotRejected], None]


@dataclass
class Tracked:
    """What the run knows of one list: some members, and its count before the open joins."""

    emails: set[str] = field(default_factory=set)  # known members, lower case
    complete: bool = False  # `emails` is every member (created in this run, or read whole)
    count: int | None = None  # member count before `pending`; None: read it before sending more
    pending: set[str] = field(default_factory=set)  # sent with `_autopilot_list` = this list
    deferred: set[str] = field(default_factory=set)  # must join, not sent inside the upsert


class CheckedJoins:
    def __init__(self, client: AutopilotClient) -> None:
        self.client = client
        self._lists: dict[str, Tracked] = {}

    def created(self, list_id: str) -> None:
        """A list created by this run: empty, every member known."""
        self._lists[list_id] = Tracked(complete=True, count=0)

    def open_joins(self) -> int:
        return sum(len(t.pending) + len(t.deferred) for t in self._lists.values())

    def is_member(self, list_id: str, email: str) -> bool:
        """Known (or already sent) to be in the list; reads the list's first page once."""
        tracked = self._tracked(list_id)
        key = email.lower()
        return key in tracked.emails or key in tracked.pending or key in tracked.deferred

    def known_absent(self, list_id: str, email: str) -> bool:
        tracked = self._tracked(list_id)
        return tracked.complete and email.lower() not in tracked.emails

    def sent(self, list_id: str, email: str, inside_upsert: bool) -> None:
        """The upsert of `email` was accepted; it named this list (or must join it later)."""
        tracked = self._tracked(list_id)
        (tracked.pending if inside_upsert else tracked.deferred).add(email.lower())

    def left(self, list_id: str, email: str, was_member: bool) -> None:
        """The contact left the list (or was deleted) after the list's joins were settled."""
        tracked = self._tracked(list_id)
        key = email.lower()
        if tracked.count is not None:
            if was_member:
                tracked.count -= 1
            elif not tracked.complete:
                tracked.count = None  # it may or may not have been a member
        tracked.emails.discard(key)

    def forget(self, email: str) -> None:
        """A deleted contact is in no list any more (called with no joins open)."""
        for list_id, tracked in self._lists.items():
            if tracked.count is not None or tracked.complete:
                self.left(list_id, email, email.lower() in tracked.emails)

    def lists_with_open_joins(self) -> list[str]:
        return [list_id for list_id, t in self._lists.items() if t.pending or t.deferred]

    def settle(self, list_id: str, refused: Refused) -> int:
        """Make sure every contact sent for the list is in it; the number joined by call.

        A join Autopilot refuses goes to `refused(email, exc)`; the others go on."""
        tracked = self._lists.get(list_id)
        if tracked is None or not (tracked.pending or tracked.deferred):
            return 0
        first = self._page(list_id, None)
        total = first.get("total_contacts")
        seen = _emails(first)
        if (isinstance(total, int) and tracked.count is not None
                and total == tracked.count + len(tracked.pending)):
            tracked.emails |= tracked.pending  # every one of them joined inside its upsert
            tracked.pending.clear()
        todo = (tracked.pending | tracked.deferred) - seen
        # a list known whole has no member the run has not seen: its deferred joins are missing
        unsure = todo - tracked.deferred if tracked.complete else todo
        rest_pages = max(0, math.ceil((total if isinstance(total, int) else 0) / PAGE) - 1)
        read_whole = bool(unsure) and len(unsure) > rest_pages and bool(first.get("bookmark"))
        if read_whole:
            found, rest = self._rest(list_id, first, unsure)
            todo -= found
            if rest is not None:
                tracked.emails, tracked.complete = seen | rest, True
        tracked.emails |= seen | ((tracked.pending | tracked.deferred) - todo)
        tracked.pending.clear()
        tracked.deferred.clear()
        joined = 0
        for email in sorted(todo):
            try:
                self.client.request("POST", f"/list/{list_id}/contact/{in_path(email)}")
            except AutopilotRejected as exc:
                refused(email, exc)
                continue
            tracked.emails.add(email)
            joined += 1
        # exact only when every join was of a contact known to be missing
        exact = isinstance(total, int) and (read_whole or not unsure) and joined == len(todo)
        tracked.count = total + joined if exact and isinstance(total, int) else None
        if len(tracked.emails) > MAX_KNOWN:
            tracked.emails, tracked.complete = set(), False
        if joined:
            log.info("list %s: %d contact(s) that already existed joined by call", list_id,
                     joined)
        return joined

    def _tracked(self, list_id: str) -> Tracked:
        tracked = self._lists.setdefault(list_id, Tracked())
        if tracked.count is None and not (tracked.pending or tracked.deferred):
            first = self._page(list_id, None)
            total = first.get("total_contacts")
            tracked.emails |= _emails(first)
            if "bookmark" not in first:
                tracked.emails = _emails(first)
                tracked.complete = True
            tracked.count = total if isinstance(total, int) else len(_emails(first))
        return tracked

    def _page(self, list_id: str, bookmark: str | None) -> dict:
        path = f"/list/{list_id}/contacts"
        return self.client.request("GET", f"{path}/{bookmark}" if bookmark else path) or {}

    def _rest(self, list_id: str, first: dict, wanted: set[str]
              ) -> tuple[set[str], set[str] | None]:
        """The members among `wanted` on the pages after `first`, and all of their members
        while they are at most MAX_KNOWN (None past it: a list is not held whole)."""
        found: set[str] = set()
        everyone: set[str] | None = set()
        body = first
        while body.get("bookmark"):
            body = self._page(list_id, str(body["bookmark"]))
            page = _emails(body)
            found |= page & wanted
            if everyone is not None:
                everyone |= page
                if len(everyone) > MAX_KNOWN:
                    everyone = None
        return found, everyone


def _emails(body: dict) -> set[str]:
    return {str(c["Email"]).strip().lower() for c in body.get("contacts", []) if c.get("Email")}
