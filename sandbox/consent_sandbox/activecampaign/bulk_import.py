"""`POST /import/bulk_import`: validated whole, queued, then processed contact by contact.

Documented limits: at most 250 contacts a call, a body under 400,000 bytes, 100 imports a minute.
Each contact is upserted by email with `first_name`, `last_name`, `phone`, `customer_acct_name`,
`fields: [{id, value}]`, `tags: [names]`, `subscribe` / `unsubscribe: [{listid}]`. A contact
that unsubscribed from a list is not subscribed to it again by an import (only
`POST /contactLists` does that). Imports fire no webhooks.
"""

from __future__ import annotations

import time
import uuid
from collections import deque

from .account import SUBSCRIBED, UNCONFIRMED, UNSUBSCRIBED, Account, valid_email
from .errors import ActiveCampaignError

MAX_CONTACTS = 250
MAX_BYTES = 400_000
IMPORTS_PER_MINUTE = 100
SOURCE = "import"  # in no webhook's sources: imports fire no webhooks


def _refused(message: str, reasons: list) -> ActiveCampaignError:
    return ActiveCampaignError(400, {"success": 0, "message": message, "failureReasons": reasons})


class BulkImports:
    def __init__(self, account: Account) -> None:
        self.account = account
        self.recent: deque[float] = deque()

    def _admit(self) -> None:
        moment = time.monotonic()
        while self.recent and moment - self.recent[0] >= 60:
            self.recent.popleft()
        if len(self.recent) >= IMPORTS_PER_MINUTE:
            raise _refused("Rate limit exceeded.", [
                "Up to 100 imports may be requested per minute.Please batch contacts into "
                "larger requests, or retry this request in a minute."])
        self.recent.append(moment)

    def queue(self, raw: bytes, body: object) -> tuple[str, list[dict]]:
        """Validate the payload; the batch id and the contacts to process."""
        if len(raw) >= MAX_BYTES:
            raise _refused("JSON payload did not pass validation. Please fix failure Reasons and "
                           "retry. The import was not queued for processing.",
                           [f"The payload must be smaller than {MAX_BYTES} bytes."])
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(contacts, list) or not contacts:
            raise _refused("JSON payload did not pass validation. Please fix failure Reasons and "
                           "retry. The import was not queued for processing.",
                           ["'contacts' is a required field."])
        if len(contacts) > MAX_CONTACTS:
            raise _refused("JSON payload did not pass validation. Please fix failure Reasons and "
                           "retry. The import was not queued for processing.",
                           [f"Up to {MAX_CONTACTS} contacts may be imported in one request."])
        reasons = []
        for n, contact in enumerate(contacts):
            if not isinstance(contact, dict) or not valid_email(contact.get("email")):
                reasons.append({"contact": n, "failureReason": "Field 'email' incorrect format"})
            elif not all(isinstance(contact.get(k, []), list)
                         for k in ("tags", "fields", "subscribe", "unsubscribe")):
                reasons.append({"contact": n, "failureReason":
                                "tags, fields, subscribe and unsubscribe must be arrays"})
        if reasons:
            raise _refused("JSON payload did not pass validation. Please fix failure Reasons and "
                           "retry. The import was not queued for processing.", reasons)
        self._admit()
        batch_id = str(uuid.uuid4())
        store = self.account.store
        with store.transaction():
            store.add_import(batch_id, len(contacts))
        return batch_id, contacts

    def process(self, batch_id: str, contacts: list[dict]) -> None:
        success, failure = [], []
        store = self.account.store
        for contact in contacts:
            try:
                with store.transaction():
                    success.append(str(self._one(contact)))
            except ActiveCampaignError:
                failure.append(str(contact.get("email")))
        with store.transaction():
            store.finish_import(batch_id, success, failure)

    def _one(self, contact: dict) -> int:
        account = self.account
        fields = {"email": contact["email"], "firstName": contact.get("first_name"),
                  "lastName": contact.get("last_name"), "phone": contact.get("phone"),
                  "orgname": contact.get("customer_acct_name")}
        doc, _ = account.sync(fields, SOURCE)
        values = [{"field": f.get("id"), "value": f.get("value")}
                  for f in contact.get("fields") or [] if isinstance(f, dict)]
        if values:
            doc = account.field_values(doc, values, SOURCE)
        for name in contact.get("tags") or []:
            if isinstance(name, str) and name.strip():
                account.tag(doc, name, SOURCE)
        for entry in contact.get("subscribe") or []:
            list_id = int(str((entry or {}).get("listid", 0)) or 0)
            if account.store.list_status(doc["id"], list_id) != UNSUBSCRIBED:
                account.set_status(doc, list_id, SUBSCRIBED, SOURCE)
            doc = account.store.contact(doc["id"]) or doc
        for entry in contact.get("unsubscribe") or []:
            list_id = int(str((entry or {}).get("listid", 0)) or 0)
            # only a list the contact is on changes; no membership is made for the others
            if account.store.list_status(doc["id"], list_id) in (SUBSCRIBED, UNCONFIRMED):
                account.set_status(doc, list_id, UNSUBSCRIBED, SOURCE, "unsubscribed by import")
            elif account.store.list_(list_id) is None:
                raise ActiveCampaignError(404, {})
            doc = account.store.contact(doc["id"]) or doc
        return doc["id"]
