"""Contact writes as Autopilot applies them: upsert by email, custom fields, unsubscribe."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date

from .errors import AutopilotError
from .store import Store, new_contact_id, next_stamp, now_iso, now_ms

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CUSTOM_TYPES = {"string": str, "integer": int, "float": (int, float), "boolean": bool,
                "date": str}
SYSTEM_WRITABLE = {"owner_name"}


@dataclass
class Change:
    doc: dict
    created: bool
    events: list[str] = field(default_factory=list)  # hook events this change fires


def check_email(value: object) -> str:
    if not isinstance(value, str) or not EMAIL.match(value.strip()):
        raise AutopilotError(400, f"Contact Email {value!r} is not a valid email address "
                                  "(expected name@domain.tld).")
    return value.strip()


def _custom_value(store: Store, key: str, value: object) -> tuple[str, str, object]:
    field_type, sep, name = key.partition("--")
    if not sep or field_type not in CUSTOM_TYPES or not name:
        raise AutopilotError(400, f"Custom field key {key!r} must be '<type>--<Name>' with type "
                                  f"one of {sorted(CUSTOM_TYPES)}.")
    name = name.replace("--", " ")
    expected = CUSTOM_TYPES[field_type]
    if value is not None and (not isinstance(value, expected)
                              or field_type != "boolean" and isinstance(value, bool)):
        raise AutopilotError(400, f"Custom field {name!r} expects a {field_type} value.")
    if field_type == "date" and isinstance(value, str):
        try:
            date.fromisoformat(value[:10])
        except ValueError as exc:
            raise AutopilotError(400, f"Custom field {name!r} expects a date.") from exc
    known = store.field_type(name)
    if known is not None and known != field_type:
        raise AutopilotError(400, f"Custom field {name!r} is of type {known}, not {field_type}.")
    return name, field_type, value


def validate(store: Store, contact: object) -> dict:
    """Refuse what Autopilot would refuse, before anything is written."""
    if not isinstance(contact, dict):
        raise AutopilotError(400, "A contact must be a JSON object.")
    check_email(contact.get("Email"))
    if "unsubscribed" in contact and not isinstance(contact["unsubscribed"], bool):
        raise AutopilotError(400, "unsubscribed must be true or false.")
    for key, value in contact.items():
        if _standard(key) and isinstance(value, dict | list):
            raise AutopilotError(400, f"Contact field {key!r} takes a single value, not {value!r}.")
    custom = contact.get("custom") or {}
    if not isinstance(custom, dict):
        raise AutopilotError(400, "custom must be an object of '<type>--<Name>': value.")
    for key, value in custom.items():
        _custom_value(store, key, value)
    return contact


def _standard(key: str) -> bool:
    return key[:1].isupper() or key in SYSTEM_WRITABLE


def upsert(store: Store, contact: dict) -> Change:
    """Apply one validated contact; the first contact with that email is the one updated."""
    existing = store.find(str(contact["Email"]).strip().lower())
    created = not existing
    doc = dict(existing[0]) if existing else {
        "contact_id": new_contact_id(), "unsubscribed": False, "created_at": now_iso()}
    before = dict(doc)
    for key, value in contact.items():
        if key == "Email" and not created:
            continue  # the address is the key, compared case-blind: its first spelling stays
        if _standard(key):
            doc[key] = value.strip() if key == "Email" else value
    if "unsubscribed" in contact:
        doc["unsubscribed"] = contact["unsubscribed"]
    fields = {c["kind"]: c for c in doc.get("custom_fields", [])}
    for key, value in (contact.get("custom") or {}).items():
        name, field_type, value = _custom_value(store, key, value)
        store.define_field(name, field_type)
        fields[name] = {"kind": name, "fieldType": field_type, "value": value}
    if fields:
        doc["custom_fields"] = list(fields.values())
    events = []
    if created:
        events.append("contact_added")
    elif doc != before:
        events.append("contact_updated")
    if doc.get("unsubscribed") and not before.get("unsubscribed"):
        events.append("contact_unsubscribed")
    if created or doc != before:
        doc["updated_at"] = next_stamp(before.get("updated_at"))
        store.save(doc)
    return Change(doc, created, events)


def edit(store: Store, doc: dict, changes: dict) -> Change:
    """A change made in the Autopilot UI (or by Autopilot itself): any field, the stamp moves."""
    before = dict(doc)
    doc = {**doc, **{k: v for k, v in changes.items()
                     if k not in ("contact_id", "lists", "created_at", "updated_at", "custom")}}
    if changes.get("custom"):  # a custom field set in the UI, named as the API writes it
        fields = {c["kind"]: c for c in doc.get("custom_fields", [])}
        for key, value in changes["custom"].items():
            name, field_type, value = _custom_value(store, key, value)
            store.define_field(name, field_type)
            fields[name] = {"kind": name, "fieldType": field_type, "value": value}
        doc["custom_fields"] = list(fields.values())
    events = ["contact_updated"] if doc != before else []
    if doc.get("unsubscribed") and not before.get("unsubscribed"):
        events.append("contact_unsubscribed")
    if events:
        doc["updated_at"] = next_stamp(before.get("updated_at"))
        store.save(doc)
    return Change(doc, False, events)


def hard_bounce(store: Store, doc: dict) -> Change:
    bounces = dict(doc.get("mail_hardbounced") or {})
    bounces[f"mail_{uuid.uuid4().hex[:16]}"] = now_ms()
    return edit(store, doc, {"mail_hardbounced": bounces})


MAIL_EVENTS = ("received", "opened", "clicked", "bounced", "hardbounced", "complained",
               "unsubscribed")


def mail_event(store: Store, doc: dict, event: str, mail_id: str | None = None,
               at_ms: int | None = None) -> Change:
    """Autopilot recording a mail's fate on the contact (`mail_<event>`: mail id -> epoch ms).

    Whether real Autopilot moves `updated_at` on mail activity is not documented; the sandbox
    does (an edit by Autopilot itself), so incremental readers see the new history.
    """
    if event not in MAIL_EVENTS:
        raise AutopilotError(400, f"Mail event {event!r} must be one of {list(MAIL_EVENTS)}.")
    name = f"mail_{event}"
    history = dict(doc.get(name) or {})
    history[mail_id or f"mail_{uuid.uuid4().hex[:16]}"] = now_ms() if at_ms is None else at_ms
    return edit(store, doc, {name: history})
