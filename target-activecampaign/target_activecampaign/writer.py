"""Writes `contacts` records: bulk imports of up to 250, then the consent changes an import
cannot make.

- Profile, custom fields, tags, `lists` (subscribe) and `unsubscribed: true` (unsubscribe from
  every list of the account: the import changes only the lists the contact is on) ride on one
  `POST /import/bulk_import` per batch; the target waits for `GET /import/info` to report the
  batch completed before it counts the records written.
- `unsubscribed: false`: an import never subscribes a contact to a list it unsubscribed from, so
  each list of `resubscribe_lists` (or `default_list`) gets `POST /contactLists` status 1,
  after the batch's import completed.
- `_delete: true`: `GET /contacts?email=` then `DELETE /contacts/{id}`.
Everything is safe to replay: imports upsert by email, statuses and tags are set, not toggled.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from .client import Client, Rejected
from .records import BadRecord, Contact, parse

MAX_IMPORT = 250  # contacts per bulk import, as documented
MAX_IMPORT_BYTES = 390_000  # the documented ceiling is 400,000 bytes a request
IMPORTS_PER_MINUTE = 100  # documented; over it the import answers 400 "Rate limit exceeded."
FATAL = {401, 403}
log = logging.getLogger("target-activecampaign")


class AuthError(RuntimeError):
    pass


class ImportTimeout(RuntimeError):
    pass


@dataclass(frozen=True)
class Failure:
    email: str
    reason: str


@dataclass
class ContactWriter:
    client: Client
    default_list: str | None = None
    create_missing_fields: bool = True
    poll_seconds: float = 0.5
    import_timeout_seconds: float = 900.0
    failures: list[Failure] = field(default_factory=list)
    written: int = 0
    deleted: int = 0
    resubscribed: int = 0
    _lists: dict[str, str] | None = None
    _fields: dict[str, str] | None = None
    _imports: deque = field(default_factory=deque)

    # account look-ups, once a run

    def lists(self) -> dict[str, str]:
        """List id, and name (case-blind), -> list id."""
        if self._lists is None:
            self._lists = {}
            for row in self.client.pages("/lists", "lists"):
                self._lists[str(row["id"])] = str(row["id"])
                self._lists.setdefault(str(row["name"]).strip().lower(), str(row["id"]))
        return self._lists

    def list_id(self, ref: str, what: str) -> str:
        found = self.lists().get(ref) or self.lists().get(ref.strip().lower())
        if found is None:
            raise BadRecord(f"{what} {ref!r} names no list of the account: create it in "
                            "ActiveCampaign or give an existing list's id or name")
        return found

    def fields(self) -> dict[str, str]:
        """Custom field id, title and personalization tag (case-blind) -> field id."""
        if self._fields is None:
            self._fields = {}
            for row in self.client.pages("/fields", "fields"):
                ident = str(row["id"])
                self._fields[ident] = ident
                for key in (row.get("title"), row.get("perstag")):
                    if key:
                        self._fields.setdefault(str(key).strip().lower(), ident)
        return self._fields

    def field_id(self, name: str) -> str:
        found = self.fields().get(name) or self.fields().get(name.strip().lower())
        if found is not None:
            return found
        if not self.create_missing_fields:
            raise BadRecord(f"custom field {name!r} does not exist: create it (Contacts, "
                            "Fields) or turn create_missing_fields on")
        body = self.client.request("POST", "/fields", json={"field": {"type": "text",
                                                                      "title": name}})
        ident = str(body["field"]["id"])
        self.fields()[name.strip().lower()] = ident
        return ident

    # records

    def fail(self, email: object, reason: str) -> None:
        self.failures.append(Failure(str(email), reason))
        log.error("contact %s failed: %s", email, reason)

    def _prepare(self, record: dict) -> Contact:
        contact = parse(record)
        if contact.delete:
            return contact
        contact.lists = [self.list_id(ref, "lists entry") for ref in contact.lists]
        if contact.unsubscribed is False:
            targets = contact.resubscribe_lists or ([self.default_list] if self.default_list
                                                    else [])
            if not targets:
                raise BadRecord("unsubscribed is false but the record has no resubscribe_lists "
                                "and the target has no default_list setting: set one of them")
            contact.resubscribe_lists = [self.list_id(r, "resubscribe_lists entry")
                                         for r in targets]
        contact.field_ids = [{"id": int(self.field_id(name)), "value": value}
                             for name, value in contact.fields.items()]
        return contact

    def write(self, records: Iterable[dict]) -> None:
        """Apply the records in order; an address seen twice flushes the batch in between."""
        pending: list[Contact] = []
        for record in records:
            try:
                contact = self._prepare(record)
            except BadRecord as exc:
                self.fail(record.get("email"), f"not sent: {exc}")
                continue
            except Rejected as exc:
                self._refused(record.get("email"), exc, "not sent")
                continue
            if any(c.email.lower() == contact.email.lower() for c in pending):
                self._flush(pending)
                pending = []
            if contact.delete:
                self._delete(contact)
                continue
            pending.append(contact)
            if len(pending) == MAX_IMPORT:
                self._flush(pending)
                pending = []
        self._flush(pending)

    def _import_row(self, contact: Contact) -> dict:
        row: dict = {"email": contact.email, **contact.profile}
        if contact.tags:
            row["tags"] = contact.tags
        if contact.field_ids:
            row["fields"] = contact.field_ids
        if contact.unsubscribed is True:
            row["unsubscribe"] = [{"listid": i} for i in sorted(set(self.lists().values()),
                                                                 key=int)]
        else:
            subscribe = list(dict.fromkeys([*contact.lists, *contact.resubscribe_lists]))
            if subscribe:
                row["subscribe"] = [{"listid": i} for i in subscribe]
        return row

    def _flush(self, pending: list[Contact]) -> None:
        chunk: list[Contact] = []
        size = 0
        for contact in pending:
            row_size = len(json.dumps(self._import_row(contact)))
            if chunk and size + row_size > MAX_IMPORT_BYTES:
                self._import(chunk)
                chunk, size = [], 0
            chunk.append(contact)
            size += row_size
        self._import(chunk)

    def _import(self, chunk: list[Contact]) -> None:
        if not chunk:
            return
        rows = [self._import_row(c) for c in chunk]
        try:
            queued = self._post_import(rows)
        except Rejected as exc:
            if exc.status in FATAL:
                self._refused(chunk[0].email, exc)
            reasons = exc.body.get("failureReasons") if isinstance(exc.body, dict) else None
            bad = {r.get("contact") for r in reasons or [] if isinstance(r, dict)}
            if not bad:
                for contact in chunk:
                    self._refused(contact.email, exc)
                return
            for n in sorted(i for i in bad if isinstance(i, int) and i < len(chunk)):
                reason = next(r.get("failureReason") for r in reasons
                              if isinstance(r, dict) and r.get("contact") == n)
                self.fail(chunk[n].email, f"not written: the bulk import refused it ({reason})")
            self._import([c for n, c in enumerate(chunk) if n not in bad])
            return
        info = self._wait(str(queued["batchId"]))
        failed = {str(e).strip().lower() for e in info.get("failure") or []}
        for contact in chunk:
            if contact.email.lower() in failed:
                self._explain(contact)
                continue
            self.written += 1
            if contact.unsubscribed is False:
                self._resubscribe(contact)

    def _post_import(self, rows: list[dict]) -> dict:
        """One import, kept under 100 a minute; the 400 "Rate limit exceeded." is waited out."""
        for attempt in range(self.client.max_retries + 1):
            while len(self._imports) >= IMPORTS_PER_MINUTE:
                wait = self._imports[0] + 60 - time.monotonic()
                if wait <= 0:
                    self._imports.popleft()
                    continue
                time.sleep(wait)
            self._imports.append(time.monotonic())
            try:
                return self.client.request("POST", "/import/bulk_import", json={"contacts": rows})
            except Rejected as exc:
                limited = isinstance(exc.body, dict) and "rate limit" in str(
                    exc.body.get("message", "")).lower()
                if not limited or attempt == self.client.max_retries:
                    raise
                log.warning("bulk import: %s; retrying in a minute", exc.message)
                time.sleep(60)
        raise AssertionError("unreachable")

    def _wait(self, batch_id: str) -> dict:
        """Poll the import until ActiveCampaign reports it completed."""
        deadline = time.monotonic() + self.import_timeout_seconds
        wait = self.poll_seconds
        while True:
            time.sleep(wait)
            info = self.client.request("GET", "/import/info", params={"batchId": batch_id})
            if isinstance(info, dict) and info.get("status") == "completed":
                return info
            if time.monotonic() > deadline:
                raise ImportTimeout(f"bulk import {batch_id} not completed after "
                                    f"{self.import_timeout_seconds:.0f} s; its contacts are "
                                    "written once ActiveCampaign processes it, and a rerun "
                                    "writes them again safely")
            wait = min(wait * 1.5, 10.0)

    def _explain(self, contact: Contact) -> None:
        """The import failed this contact without saying why: ask `contact/sync`, which does."""
        payload = {"email": contact.email,
                   **{k: v for k, v in {"firstName": contact.profile.get("first_name"),
                                        "lastName": contact.profile.get("last_name"),
                                        "phone": contact.profile.get("phone")}.items() if v}}
        if contact.field_ids:
            payload["fieldValues"] = [{"field": str(f["id"]), "value": f["value"]}
                                      for f in contact.field_ids]
        try:
            self.client.request("POST", "/contact/sync", json={"contact": payload})
        except Rejected as exc:
            self._refused(contact.email, exc)
            return
        self.fail(contact.email, "the profile was written, but the bulk import refused its list "
                                 "statuses or tags: check that its lists exist and the tags "
                                 "are valid, then replay")

    def _contact_id(self, contact: Contact) -> str | None:
        if contact.contact_id:
            return contact.contact_id
        body = self.client.request("GET", "/contacts", params={"email": contact.email}) or {}
        found = body.get("contacts") or []
        return str(found[0]["id"]) if found else None

    def _resubscribe(self, contact: Contact) -> None:
        try:
            contact_id = self._contact_id(contact)
            if contact_id is None:
                self.fail(contact.email, "written, but not found again to re-subscribe it: "
                                         "replay the record")
                return
            for list_id in contact.resubscribe_lists:
                self.client.request("POST", "/contactLists", json={"contactList": {
                    "list": list_id, "contact": contact_id, "status": 1}})
            self.resubscribed += 1
        except Rejected as exc:
            if exc.status == 404 and contact.contact_id:  # a stale id: look it up by email
                contact.contact_id = None
                self._resubscribe(contact)
                return
            self._refused(contact.email, exc, "written, but not re-subscribed")

    def _delete(self, contact: Contact) -> None:
        try:
            contact_id = self._contact_id(contact)
            if contact_id is not None:
                self.client.request("DELETE", f"/contacts/{contact_id}", ok_statuses=(404,))
        except Rejected as exc:
            self._refused(contact.email, exc, "not deleted")
            return
        self.deleted += 1

    def _refused(self, email: object, exc: Rejected, what: str = "not written") -> None:
        if exc.status in FATAL:
            raise AuthError(f"ActiveCampaign refused the API token ({exc.status} {exc.message}):"
                            " check api_token and api_url (Settings, Developer)") from None
        self.fail(email, f"{what}: ActiveCampaign answered {exc.status} on {exc.path} "
                         f"({exc.message}); fix the record and replay it")
