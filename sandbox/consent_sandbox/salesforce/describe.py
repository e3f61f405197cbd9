"""``GET /sobjects`` and ``GET /sobjects/{T}/describe`` as the API user sees them."""

from __future__ import annotations

from .schema import (
    BUSINESS_RECORD_TYPE_ID,
    PERSON_RECORD_TYPE_ID,
    WRITABLE_OBJECTS,
    ObjectDef,
)
from .store import READ_ONLY, Store


def sobject_summary(obj: ObjectDef, base: str) -> dict:
    writable = obj.name in WRITABLE_OBJECTS
    url = f"{base}/sobjects/{obj.name}"
    return {
        "name": obj.name, "label": obj.label, "labelPlural": obj.label + "s",
        "keyPrefix": obj.key_prefix, "custom": False, "queryable": True,
        "retrieveable": True, "searchable": True, "createable": writable,
        "updateable": writable, "deletable": writable, "undeletable": writable,
        "urls": {"sobject": url, "describe": f"{url}/describe", "rowTemplate": f"{url}/{{ID}}"},
    }


def describe_object(store: Store, obj: ObjectDef, base: str) -> dict:
    """Hidden fields are absent; read-only ones are neither createable nor updateable."""
    fields = []
    for field in store.visible_fields(obj.name).values():
        entry = field.describe()
        if store.access(obj.name, field.name) == READ_ONLY:
            entry["createable"] = entry["updateable"] = False
        fields.append(entry)
    body = sobject_summary(obj, base)
    body["fields"] = fields
    body["recordTypeInfos"] = []
    if obj.name == "Account":
        body["recordTypeInfos"] = [
            {"name": "Business Account", "developerName": "Business_Account",
             "recordTypeId": BUSINESS_RECORD_TYPE_ID, "available": True,
             "defaultRecordTypeMapping": True, "master": False, "active": True},
            {"name": "Person Account", "developerName": "PersonAccount",
             "recordTypeId": PERSON_RECORD_TYPE_ID, "available": True,
             "defaultRecordTypeMapping": False, "master": False, "active": True},
        ]
    return body
