"""Writes `contacts` records to Autopilot: bulk upserts of 100, list membership, deletions.

A record Autopilot refuses is kept as a `Failure` (email and reason); the others are written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from api_pacing import Progress

from .checked_joins import CheckedJoins
from .client import AutopilotClient, AutopilotRejected, in_path
from .contacts import BadRecord, email_of, names, payload
from .expectations import guard
from .lists import Lists

BULK_MAX = 100  # Autopilot refuses a bulk upsert of more
SETTLE_EVERY = 10_000  # open joins checked at least this often (and before every STATE)
MODES = ("checked", "always", "on_create")
FATAL = {401, 403}  # the key itself is refused: no record can be written
log = logging.getLogger("target-autopilot")


class AutopilotAuthError(RuntimeError):
    pass


@dataclass(frozen=True)
class Failure:
    email: str
    reason: str


@dataclass
class Upsert:
    record: dict
    contact: dict
    lists: list[str]
    lists_remove: list[str]
    joins: list[tuple[str, bool]] = field(default_factory=list)  # checked: (list id, inside)

    @property
    def email(self) -> str:
        return self.contact["Email"]


@dataclass
class ContactWriter:
    client: AutopilotClient
    # "checked": through the upsert's `_autopilot_list`, settled by the list's count
    # (checked_joins.py); "always": each list of a record joined with its own call;
    # "on_create": the first through `_autopilot_list`, unchecked (new contacts only)
    membership: str = "checked"
    failures: list[Failure] = field(default_factory=list)
    written: int = 0
    deleted: int = 0
    skipped_fields: int = 0  # guarded fields left out: changed in Autopilot since (`_expected`)
    _field_types: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.membership not in MODES:
            raise ValueError(f"list_membership {self.membership!r} is not one of "
                             f"{', '.join(MODES)}")
        self.joins = CheckedJoins(self.client)
        # the input is a stream: no total, so done and rate, every 10,000 contacts or 30 s
        self.progress = Progress(log, "contacts upserted")
        self.lists = Lists(self.client, on_created=self.joins.created)

    def field_types(self) -> dict[str, str]:
        """Custom field name -> type, read once per run and extended by new fields' values."""
        if self._field_types is None:
            rows = self.client.request("GET", "/contacts/custom_fields") or []
            self._field_types = {row["name"]: row["fieldType"] for row in rows}
        return self._field_types

    def fail(self, email: object, reason: str) -> None:
        self.failures.append(Failure(str(email), reason))
        log.error("contact %s failed: %s", email, reason)

    def write(self, records: Iterable[dict]) -> None:
        """Apply the records in order; upserts go in bulk, flushed early only when an email
        comes back (the earlier write must land first) or a batch is full."""
        pending: list[Upsert] = []
        for record in records:
            try:
                email = email_of(record)
                if any(u.email.lower() == email.lower() for u in pending):
                    self._flush(pending)
                    pending = []
                if record.get("_sdc_deleted_at"):
                    self._delete(email)
                    continue
                if record.get("contact_id") and record.get("unsubscribed") is True:
                    # two contacts whose addresses differ only in case: an upsert by address
                    # reaches the older one, the id names this one
                    self._unsubscribe_by_id(str(record["contact_id"]), email)
                    continue
                if record.get("_expected"):  # compare-and-set (expectations.py)
                    record = self._guarded(record)
                    if not any(v is not None for k, v in record.items()
                               if k not in ("Email", "_expected") and not k.startswith("_sdc_")):
                        continue  # every field it carried moved on: nothing left to write
                types = self.field_types() if record.get("custom_fields") else {}
                upsert = Upsert(record, payload(record, types), names(record, "lists"),
                                names(record, "lists_remove"))
            except BadRecord as exc:
                self.fail(record.get("Email"), f"not sent: {exc}")
                continue
            if upsert.lists and self.membership == "on_create":
                try:
                    upsert.contact["_autopilot_list"] = self.lists.id_of(upsert.lists[0])
                except AutopilotRejected:
                    pass  # the list is tried again, and reported, after the upsert
            if self.membership == "checked":
                self._plan_joins(upsert)
            pending.append(upsert)
            if len(pending) == BULK_MAX:
                self._flush(pending)
                pending = []
        self._flush(pending)
        if self.joins.open_joins() >= SETTLE_EVERY:
            self.settle()

    def _guarded(self, record: dict) -> dict:
        record, stale = guard(self.client, record)
        if stale:
            self.skipped_fields += len(stale)
            log.info("contact %s: fields not written, changed in Autopilot since the sender "
                     "read them (it decides again at its next read): %s", record.get("Email"),
                     "; ".join(stale))
        return record

    def _plan_joins(self, upsert: Upsert) -> None:
        """Lists the contact is not known to be in: the first rides on the upsert."""
        for title in upsert.lists:
            try:
                list_id = self.lists.id_of(title)
                if self.joins.is_member(list_id, upsert.email):
                    continue
            except AutopilotRejected as exc:
                self._refused(upsert.email, exc, f"written, but could not join list {title!r}")
                continue
            inside = "_autopilot_list" not in upsert.contact
            if inside:
                upsert.contact["_autopilot_list"] = list_id
            upsert.joins.append((list_id, inside))

    def settle(self) -> None:
        """Every join sent so far checked, and made by call where the upsert did not do it."""
        for list_id in self.joins.lists_with_open_joins():
            self.joins.settle(list_id, lambda email, exc, list_id=list_id: self._refused(
                email, exc, f"written, but could not join list {list_id!r}"))

    def _delete(self, email: str) -> None:
        if self.membership == "checked":
            self.settle()  # the lists' counts must not move under open joins
        try:
            self.client.request("DELETE", f"/contact/{in_path(email)}", ok_statuses=(404,))
        except AutopilotRejected as exc:
            self._refused(email, exc, "not deleted")
            return
        self.lists.forget(email)
        self.joins.forget(email)
        self.deleted += 1

    def _unsubscribe_by_id(self, contact_id: str, email: str) -> None:
        try:
            self.client.request("POST", f"/contact/{in_path(contact_id)}/unsubscribe")
        except AutopilotRejected as exc:
            self._refused(email, exc, "not unsubscribed")
            return
        self.written += 1

    def _flush(self, pending: list[Upsert]) -> None:
        for upsert in self._upsert(pending):
            self._membership(upsert)

    def _upsert(self, pending: list[Upsert]) -> list[Upsert]:
        if not pending:
            return []
        try:
            self.client.request("POST", "/contacts",
                                json={"contacts": [u.contact for u in pending]})
            self.written += len(pending)
            self.progress.advance(len(pending))
            return pending
        except AutopilotRejected as exc:
            if exc.status in FATAL or len(pending) == 1:
                self._refused(pending[0].email, exc)
                return []
            log.warning("bulk upsert of %d contacts refused (%s): sending them one by one to "
                        "find the bad ones", len(pending), exc.message)
        written = []
        for upsert in pending:
            try:
                self.client.request("POST", "/contact", json={"contact": upsert.contact})
            except AutopilotRejected as exc:
                self._refused(upsert.email, exc)
                continue
            self.written += 1
            written.append(upsert)
        return written

    def _membership(self, upsert: Upsert) -> None:
        if self.membership == "checked":
            for list_id, inside in upsert.joins:
                self.joins.sent(list_id, upsert.email, inside)
            for title in upsert.lists_remove:
                self._leave_checked(upsert.email, title)
            return
        joined_on_create = "_autopilot_list" in upsert.contact
        changes = [(self.lists.add, "join", title) for title in
                   (upsert.lists[1:] if joined_on_create else upsert.lists)]
        changes += [(self.lists.remove, "leave", title) for title in upsert.lists_remove]
        for change, verb, title in changes:
            try:
                change(title, upsert.email)
            except AutopilotRejected as exc:
                self._refused(upsert.email, exc, f"written, but could not {verb} list {title!r}")

    def _leave_checked(self, email: str, title: str) -> None:
        list_id = self.lists.known(title)  # a list is never created to be left
        if list_id is None:
            return
        try:
            if list_id in self.joins.lists_with_open_joins():
                self.settle()
            if self.joins.known_absent(list_id, email):
                return
            was_member = self.joins.is_member(list_id, email)
            self.client.request("DELETE", f"/list/{list_id}/contact/{in_path(email)}",
                                ok_statuses=(404,))
        except AutopilotRejected as exc:
            self._refused(email, exc, f"written, but could not leave list {title!r}")
            return
        self.joins.left(list_id, email, was_member)

    def _refused(self, email: str, exc: AutopilotRejected, what: str = "not written") -> None:
        if exc.status in FATAL:
            raise AutopilotAuthError(f"Autopilot refused the API key ({exc.status} {exc.message})"
                                     ": check the api_key setting") from None
        self.fail(email, f"{what}: Autopilot answered {exc.status} {exc.message}")
