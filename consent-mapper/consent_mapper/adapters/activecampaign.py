"""ActiveCampaign, a marketing platform whose consent lives on list subscriptions.

A contact (tap-activecampaign's `contacts`) is opted out when it is active on no list and
unsubscribed from at least one; opted in when active on any list; a hard bounce (`bounced_hard`,
or a list status 3) is a bounce for the rule book (`bounce_is_opt_out`); a contact on no list gives
no consent signal: it only confirms an opt-out the sync wrote there. Writes go to
target-activecampaign: an opt-out unsubscribes the contact from every list it is active on, and
the lists it was active on are remembered (`platform_state`), so that a re-subscribe subscribes
it back to exactly those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from consent_mapper.profile import Profile
from consent_mapper.rules import (
    PLATFORM,
    Observation,
    RecordKey,
    RecordMemory,
    Skip,
    Write,
    address_of,
    person_account_fields,
)
from consent_mapper.timestamps import utc

SYSTEM = "activecampaign"
CONTACTS = "contacts"
INPUT_STREAMS = (CONTACTS,)
ACTIVE, UNSUBSCRIBED, BOUNCED = 1, 2, 3

# Salesforce field -> ActiveCampaign contact field, per stream ("Company" becomes the contact's
# organization, as ActiveCampaign's own integration maps it; never from a Person Account)
FROM_SALESFORCE: Mapping[str, Mapping[str, str]] = {
    "Lead": {"FirstName": "first_name", "LastName": "last_name", "Phone": "phone",
             "Company": "orgname"},
    "Contact": {"FirstName": "first_name", "LastName": "last_name", "Phone": "phone"},
    "Account": {"FirstName": "first_name", "LastName": "last_name"},
}
STANDARD_FIELDS = ("first_name", "last_name", "phone", "orgname")
COMPANY_FIELD = "orgname"  # the contact's organization: a Salesforce Account's Name
RESERVED = frozenset({"email", "unsubscribed", "resubscribe_lists", "lists", "tags", "fields",
                      "id", "_delete", "_sdc_deleted_at"})
# the tags ActiveCampaign's own Salesforce integration puts on the contacts it links, so that
# segments and automations built for it keep working
TAGS = {"Lead": "created-from-salesforce-lead", "Contact": "added-to-salesforce-contact",
        "Account": "added-to-salesforce-contact"}
CONVERTED_TAG = "salesforce-lead-converted-to-contact"

_STRINGS = {"type": ["array", "null"], "items": {"type": "string"}}


def key(spelling: str) -> RecordKey:
    return RecordKey(PLATFORM, SYSTEM, "contact", spelling)


def observe(stream: str, record: Mapping[str, Any]) -> Observation | Skip | None:
    """A contact as an observation of a person (without a consent signal when on no list)."""
    if stream != CONTACTS:
        return None
    email = address_of(record.get("email"), key(str(record.get("id") or "?")))
    if isinstance(email, Skip):
        return email  # named by its contact id: the address is what is wrong
    statuses = [(str(s.get("list_id")), int(s.get("status") or 0))
                for s in record.get("lists") or ()]
    active = sorted(list_id for list_id, status in statuses if status == ACTIVE)
    unsubscribed = any(status == UNSUBSCRIBED for _, status in statuses)
    bounced = int(record.get("bounced_hard") or 0) > 0 or any(
        status == BOUNCED for _, status in statuses)
    stamps = [utc(str(record.get("udate") or ""))]
    stamps += [utc(str(s.get("updated_at"))) for s in record.get("lists") or ()
               if s.get("updated_at")]
    return Observation(
        key=key(str(record["email"]).strip()), email=email,
        opted_out=not active and unsubscribed, bounced=bounced and not active,
        changed_at=max(stamps),
        why="unsubscribed from every list it was on" if not active else "active on a list",
        native_id=str(record.get("id") or "") or None,
        platform_state=json.dumps({"active": active}),
        # on no list: no consent signal (CONSENT-RULES "Opted out")
        signal=bool(active or unsubscribed or bounced))


def profile_fields(stream: str, record: Mapping[str, Any],
                   field_map: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Contact fields and custom field values from one Salesforce row (empty values left out)."""
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for source, target in (*FROM_SALESFORCE[stream].items(), *field_map.items()):
        value = record.get(source)
        if value is None or value == "":
            continue
        (fields if target in STANDARD_FIELDS else custom)[target] = value
    if stream == "Account":
        fields = person_account_fields({("Company" if k == "orgname" else k): v
                                        for k, v in fields.items()})
    return fields, custom


def shape() -> tuple[str, dict, tuple[str, ...]]:
    properties: dict[str, Any] = {"email": {"type": "string"}}
    for name in STANDARD_FIELDS:
        properties[name] = {"type": ["string", "null"]}
    properties |= {
        "id": {"type": ["string", "null"]},
        "unsubscribed": {"type": ["boolean", "null"]},
        "resubscribe_lists": _STRINGS,
        "lists": _STRINGS,
        "tags": _STRINGS,
        "fields": {"type": ["object", "null"],
                   "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
        "_delete": {"type": ["boolean", "null"]},
    }
    return CONTACTS, {"type": "object", "properties": properties, "required": ["email"]}, \
        ("email",)


def profile_record(profile: Profile) -> dict[str, Any]:
    """The profile part of a contact upsert: fields, lists, and the native integration's tags."""
    record: dict[str, Any] = {k: str(v) for k, v in (profile.fields or {}).items()}
    if profile.custom_fields:
        record["fields"] = dict(profile.custom_fields)
    if profile.lists:
        record["lists"] = sorted(profile.lists)
    tags = sorted({TAGS[o] for o in profile.objects if o in TAGS}
                  | ({CONVERTED_TAG} if profile.converted else set()))
    if tags:
        record["tags"] = tags
    return record


def profile_for(doc: dict[str, Any], opted_out: bool | None) -> dict[str, Any]:
    """On ActiveCampaign a list is consent: an opted-out person's profile joins no list."""
    if opted_out is False:
        return doc
    return {k: v for k, v in doc.items() if k != "lists"}


def contact_record(contact: RecordKey, memory: RecordMemory | None,
                   profile: dict[str, Any] | None, write: Write | None,
                   twin: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {"email": contact.record_id, **(profile or {})}
    if memory is not None and memory.native_id:
        record["id"] = memory.native_id
    if write is not None:
        record["unsubscribed"] = write.opted_out
        if not write.opted_out:
            record["resubscribe_lists"] = _state(memory).get("unsubscribed_from", [])
    return record


def remember_write(memory: RecordMemory, write: Write) -> str | None:
    """The platform state after ``write``: an opt-out remembers the lists it unsubscribes."""
    state = _state(memory)
    if write.opted_out and state.get("active"):
        state["unsubscribed_from"] = state["active"]
    return json.dumps(state, sort_keys=True) if state else memory.platform_state


def merge_state(old: str | None, new: str | None) -> str | None:
    """A new reading's active lists, keeping the lists the sync unsubscribed the contact from."""
    if not old or not new:
        return new or old
    state = {**json.loads(old), **json.loads(new)}
    return json.dumps(state, sort_keys=True)


def deletion(contact: RecordKey, deleted_at: str) -> dict[str, Any]:
    return {"email": contact.record_id, "_delete": True}


def _state(memory: RecordMemory | None) -> dict[str, Any]:
    if memory is None or not memory.platform_state:
        return {}
    return json.loads(memory.platform_state)
