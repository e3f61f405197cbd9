"""What changes a contact, shared by the API routes, the bulk import and the admin surface.

Which timestamp moves:
- a change of the contact's own fields (names, phone, email, bounce counters) or of a custom field
  value moves the contact's `udate` (and `updated_utc_timestamp`);
- a list-status change moves the contactList's `udate`/`updated_timestamp`; whether it also moves
  the contact's `udate` is not documented, so it is the setting
  `activecampaign_list_status_moves_udate` (default False, the case a reader must survive);
- adding a tag moves neither.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ..settings import SandboxSettings
from .errors import ActiveCampaignError, invalid, not_found
from .hooks import HookDelivery
from .store import Store

EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# API field name -> stored key of the contact
PROFILE = {"email": "email", "firstName": "firstName", "lastName": "lastName", "phone": "phone",
           "orgname": "orgname"}
SUBSCRIBED, UNSUBSCRIBED, BOUNCED, UNCONFIRMED = 1, 2, 3, 0
STATUS_EVENTS = {SUBSCRIBED: "subscribe", UNSUBSCRIBED: "unsubscribe", BOUNCED: "bounce"}


def now() -> datetime:
    return datetime.now(UTC)


def valid_email(value: object) -> bool:
    return isinstance(value, str) and bool(EMAIL.match(value.strip()))


def as_id(value: object, what: str, pointer: str) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise invalid(f"{what} is not valid", "field_invalid", pointer) from None
    if number <= 0:
        raise invalid(f"{what} is not valid", "field_invalid", pointer)
    return number


class Account:
    def __init__(self, settings: SandboxSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.hooks = HookDelivery(store.webhooks, self._disable_hook)

    def _disable_hook(self, hook_id: int) -> None:
        with self.store.transaction():
            self.store.delete_webhook(hook_id)

    # look-ups

    def contact(self, contact_id: object) -> dict:
        try:
            number = int(str(contact_id))
        except ValueError:
            number = 0
        doc = self.store.contact(number) if number > 0 else None
        if doc is None:
            raise not_found("Subscriber", contact_id)
        return doc

    # writes (callers hold a transaction)

    def create(self, fields: dict, source: str) -> dict:
        email = fields.get("email")
        if not valid_email(email):
            raise invalid("Contact Email Address is not valid.", "email_invalid",
                          "/data/attributes/email")
        if self.store.contact_by_email(str(email)) is not None:
            raise invalid("Email address already exists in the system", "duplicate",
                          "/data/attributes/email")
        doc = {key: str(fields[name]) for name, key in PROFILE.items()
               if fields.get(name) is not None}
        doc["email"] = str(email).strip()
        created = self.store.insert_contact(doc, now())
        self.hooks.fire("update", source, created)
        return created

    def update(self, doc: dict, fields: dict, source: str) -> tuple[dict, bool]:
        """Apply the given profile fields; True when something changed (udate moved)."""
        if "email" in fields and fields["email"] is not None:
            if not valid_email(fields["email"]):
                raise invalid("Contact Email Address is not valid.", "email_invalid",
                              "/data/attributes/email")
            other = self.store.contact_by_email(str(fields["email"]))
            if other is not None and other["id"] != doc["id"]:
                raise invalid("Email address already exists in the system", "duplicate",
                              "/data/attributes/email")
        changes = {key: str(fields[name]) for name, key in PROFILE.items()
                   if fields.get(name) is not None and str(fields[name]) != doc.get(key, "")}
        if not changes:
            return doc, False
        doc = self.store.save_contact({**doc, **changes}, now())
        self.hooks.fire("update", source, doc)
        return doc, True

    def sync(self, fields: dict, source: str) -> tuple[dict, bool]:
        """Upsert by email (case-blind); True when the contact is new."""
        if not valid_email(fields.get("email")):
            raise invalid("Contact Email Address is not valid.", "email_invalid",
                          "/data/attributes/email")
        found = self.store.contact_by_email(str(fields["email"]))
        if found is None:
            return self.create(fields, source), True
        changes = {k: v for k, v in fields.items() if k != "email"}
        return self.update(found, changes, source)[0], False

    def field_values(self, doc: dict, values: list, source: str) -> dict:
        """`[{"field": id, "value": ...}]`: unknown fields are refused."""
        if not isinstance(values, list):
            raise invalid("fieldValues must be an array", "field_invalid",
                          "/data/attributes/fieldValues")
        changed = False
        for entry in values:
            if not isinstance(entry, dict):
                raise invalid("fieldValues entries must be objects", "field_invalid",
                              "/data/attributes/fieldValues")
            field_id = as_id(entry.get("field", entry.get("id")), "Field",
                             "/data/attributes/fieldValues/field")
            if not self.store.field_exists(field_id):
                raise invalid(f"Field with id {field_id} does not exist", "field_missing",
                              "/data/attributes/fieldValues/field")
            changed |= self.store.set_field_value(doc["id"], field_id, entry.get("value"))
        if changed:
            doc = self.store.save_contact(doc, now())
            self.hooks.fire("update", source, doc)
        return doc

    def set_status(self, doc: dict, list_id: int, status: int, source: str,
                   reason: str | None = None) -> bool:
        if self.store.list_(list_id) is None:
            raise not_found("List", list_id)
        if not self.store.set_list_status(doc["id"], list_id, status, now(), reason):
            return False
        if self.settings.activecampaign_list_status_moves_udate:
            self.store.save_contact(doc, now())
        if status in STATUS_EVENTS:
            self.hooks.fire(STATUS_EVENTS[status], source, doc, list_id)
        return True

    def tag(self, doc: dict, name: str, source: str) -> dict:
        tag_id = self.store.tag_by_name(name) or self.store.create_tag(name)
        row, added = self.store.tag_contact(doc["id"], tag_id)
        if added:
            self.hooks.fire("contact_tag_added", source, doc)
        return row

    def hard_bounce(self, doc: dict) -> dict:
        """A hard bounce: the counter goes up, every list status becomes 3, a bounce log."""
        moment = now()
        doc = self.store.save_contact({**doc, "bounced_hard": str(int(doc.get("bounced_hard")
                                                                      or 0) + 1),
                                       "bounced_date": moment.date().isoformat()}, moment)
        self.store.add_bounce(doc["id"], doc["email"], moment)
        for row in self.store.contact_lists(doc["id"]):
            if row["status"] != BOUNCED:
                self.store.set_list_status(doc["id"], row["list"], BOUNCED, moment)
        self.hooks.fire("bounce", "system", doc)
        return doc

    def unsubscribe_everywhere(self, doc: dict, source: str) -> None:
        for row in self.store.contact_lists(doc["id"]):
            if row["status"] in (SUBSCRIBED, UNCONFIRMED):
                self.set_status(doc, row["list"], UNSUBSCRIBED, source, "unsubscribed")


def require_object(body: object, key: str) -> dict:
    """`{"<key>": {...}}`, or ActiveCampaign's bare 400 `{}`."""
    inner = body.get(key) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise ActiveCampaignError(400, {})
    return inner
