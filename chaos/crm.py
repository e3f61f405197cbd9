"""The Salesforce side of a world: user edits on Leads, Contacts, Person Accounts; end state."""

from __future__ import annotations

import random

from consent_sandbox.salesforce.testing import connect
from consent_sandbox.testing import RunningSandbox

# object kind of the script -> (sObject, email field, opt-out field)
FIELDS = {"Lead": ("Lead", "Email", "HasOptedOutOfEmail"),
          "Contact": ("Contact", "Email", "HasOptedOutOfEmail"),
          "PersonAccount": ("Account", "PersonEmail", "PersonHasOptedOutOfEmail")}


def create(sandbox: RunningSandbox, kind: str, label: str, email: str, opted_out: bool) -> str:
    sobject, email_field, flag = FIELDS[kind]
    row: dict = {"LastName": label, email_field: email, flag: opted_out}
    if kind == "Lead":
        row["Company"] = "Chaos"
    elif kind == "PersonAccount":
        row["FirstName"] = "Person"
    return sandbox.admin("salesforce", "POST", f"/records/{sobject}", json=[row]).json()["ids"][0]


def edit(sandbox: RunningSandbox, kind: str, record_id: str, **fields: object) -> None:
    sobject = FIELDS[kind][0]
    sandbox.admin("salesforce", "PATCH", f"/records/{sobject}/{record_id}", json=fields)


def set_opted_out(sandbox: RunningSandbox, kind: str, record_id: str, opted_out: bool) -> None:
    edit(sandbox, kind, record_id, **{FIELDS[kind][2]: opted_out})


def opted_out(sandbox: RunningSandbox, kind: str, record_id: str) -> bool | None:
    """The record's opt-out as the world holds it now; None when it is gone."""
    sobject, _, flag = FIELDS[kind]
    for row in sandbox.admin("salesforce", "GET", f"/records/{sobject}").json():
        if row["Id"] == record_id:
            return bool(row.get(flag))
    return None


def delete(sandbox: RunningSandbox, kind: str, record_id: str) -> None:
    """To the recycle bin through the REST API, as a user deletes."""
    getattr(connect(sandbox), FIELDS[kind][0]).delete(record_id)


def convert(sandbox: RunningSandbox, lead_id: str, contact_id: str | None) -> str:
    body = {"lead_id": lead_id} | ({"contact_id": contact_id} if contact_id else {})
    return sandbox.admin("salesforce", "POST", "/convert-lead", json=body).json()["contact_id"]


def records(sandbox: RunningSandbox) -> list[dict]:
    """Every person record, deleted ones too: ``{"id", "kind", "email", "opted_out", "state"}``."""
    found = []
    for kind, (sobject, email_field, flag) in FIELDS.items():
        for row in sandbox.admin("salesforce", "GET", f"/records/{sobject}").json():
            if kind == "PersonAccount" and not row.get("IsPersonAccount"):
                continue  # a business Account (made by a conversion): no person
            if kind == "Contact" and row.get("IsPersonAccount"):
                continue  # a Person Account's mirror: read on the Account
            found.append(_record(row, kind, email_field, flag))
    return found


def _record(row: dict, kind: str, email_field: str, flag: str) -> dict:
    state = "deleted" if row.get("IsDeleted") else "converted" if row.get("IsConverted") else "live"
    return {"id": row["Id"], "kind": kind, "email": row.get(email_field) or "",
            "opted_out": bool(row.get(flag)), "state": state}


def random_fault(rng: random.Random) -> dict:
    """A 5xx on a call, or records refused inside a collection call (row lock)."""
    roll = rng.random()
    if roll < 0.4:
        return {"per_record": True, "error_code": "UNABLE_TO_LOCK_ROW",
                "message": "unable to obtain exclusive access to this record",
                "count": rng.randint(1, 3)}
    if roll < 0.7:
        return {"status": rng.choice((500, 503)), "count": rng.randint(1, 2),
                "endpoint": "composite/sobjects"}
    return {"status": rng.choice((500, 503)), "count": 1, "method": "GET"}
