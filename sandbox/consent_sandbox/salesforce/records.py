"""Writes as Salesforce validates them: field checks, Person Accounts, recycle bin, conversion."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from .errors import SalesforceError, no_such_column_on_write, not_writable
from .schema import (
    INTEGRATION_USER_ID,
    PERSON_MIRROR,
    PERSON_ONLY_FIELDS,
    PERSON_RECORD_TYPE_ID,
    PREFIXES,
    FieldDef,
    format_datetime,
    make_id,
    parse_datetime,
    to_18,
)
from .store import READ_ONLY, Store, quote
from .tasks import derived

_ATOM = r"[^@\s\"(),:;<>\[\]\\.]+"
EMAIL_RE = re.compile(rf"^{_ATOM}(\.{_ATOM})*@{_ATOM}(\.{_ATOM})+$")
STAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


def out_value(field: FieldDef, value: object) -> object:
    if field.type == "boolean":
        return bool(value)
    return value


def full_name(first: object, last: object) -> str | None:
    return " ".join(str(p) for p in (first, last) if p) or None


def not_found() -> SalesforceError:
    return SalesforceError("NOT_FOUND", "The requested resource does not exist", 404)


def entity_deleted() -> SalesforceError:
    return SalesforceError("ENTITY_IS_DELETED", "entity is deleted", 400)


def coerce(field: FieldDef, value: object) -> object:
    """The stored form of a value written through the API, or the API's complaint."""
    if value is None:
        if field.type == "boolean":
            return 0
        return None
    if field.type == "boolean":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        raise _parse_error(field, value, "boolean")
    if field.type in ("datetime", "date"):
        if not isinstance(value, str):
            raise _parse_error(field, value, field.type)
        try:
            moment = parse_datetime(value)
        except ValueError:
            raise _parse_error(field, value, field.type) from None
        return format_datetime(moment) if field.type == "datetime" else moment.date().isoformat()
    if field.type in ("double", "currency", "percent", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _parse_error(field, value, "double")
        return value
    if field.is_id:
        normal = to_18(str(value)) if isinstance(value, str) else None
        if normal is None:
            raise SalesforceError("MALFORMED_ID", f"{field.label}: id value of incorrect type: "
                                  f"{value}", fields=[field.name])
        if field.reference_to and PREFIXES.get(normal[:3]) not in (None, *field.reference_to):
            raise SalesforceError("FIELD_INTEGRITY_EXCEPTION", f"{field.label}: id value of "
                                  f"incorrect type: {value}", fields=[field.name])
        return normal
    if not isinstance(value, str):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    if field.type == "email" and value and not EMAIL_RE.match(value):
        raise SalesforceError("INVALID_EMAIL_ADDRESS",
                              f"{field.label}: invalid email address: {value}",
                              fields=[field.name])
    return value


def _parse_error(field: FieldDef, value: object, kind: str) -> SalesforceError:
    return SalesforceError("JSON_PARSER_ERROR",
                           f"Cannot deserialize instance of {kind} from VALUE_STRING value "
                           f"{value} or request may be missing a required field",
                           fields=[field.name])


class Records:
    """Reads and writes rows of Lead, Contact and Account the way the API user may."""

    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

    # --- reading -----------------------------------------------------------------------------

    def row(self, obj: str, record_id: str) -> dict | None:
        normal = to_18(record_id)
        if normal is None or PREFIXES.get(normal[:3]) != obj:
            return None
        cursor = self.db.execute(f"SELECT * FROM {quote(obj)} WHERE Id = ?", (normal,))
        found = cursor.fetchone()
        if found is None:
            return None
        return dict(zip([c[0] for c in cursor.description], found, strict=True))

    def live_row(self, obj: str, record_id: str) -> dict:
        row = self.row(obj, record_id)
        if row is None:
            raise not_found()
        if row["IsDeleted"]:
            raise entity_deleted()
        return row

    # --- validation --------------------------------------------------------------------------

    def checked(self, obj: str, values: dict, creating: bool, admin: bool = False) -> dict:
        """Canonical field name -> stored value; hidden or unknown fields do not exist."""
        fields = ({f.name.lower(): f for f in self.store.objects[obj].fields} if admin
                  else self.store.visible_fields(obj))
        out: dict[str, object] = {}
        for key, value in values.items():
            if key == "attributes":
                continue
            field = fields.get(key.lower())
            if field is None:
                raise no_such_column_on_write(key, obj)
            if not admin and field.name != "Id":
                allowed = field.createable if creating else field.updateable
                if not allowed or self.store.access(obj, field.name) == READ_ONLY:
                    raise not_writable(field.name)
            out[field.name] = value if admin and field.name in ("Id",) else coerce(field, value)
        return out

    # --- writing -----------------------------------------------------------------------------

    def _insert(self, obj: str, values: dict) -> None:
        cols = ", ".join(quote(c) for c in values)
        marks = ", ".join("?" for _ in values)
        self.db.execute(f"INSERT INTO {quote(obj)} ({cols}) VALUES ({marks})",
                        list(values.values()))

    def _update(self, obj: str, record_id: str, values: dict) -> None:
        sets = ", ".join(f"{quote(c)} = ?" for c in values)
        self.db.execute(f"UPDATE {quote(obj)} SET {sets} WHERE Id = ?",
                        [*values.values(), record_id])

    def _new_id(self, obj: str) -> str:
        return make_id(self.store.objects[obj].key_prefix, self.store.next_numbers(1)[0])

    def _check_owner(self, data: dict) -> None:
        """An owner must be an active user of the org, as Salesforce checks it."""
        owner = data.get("OwnerId")
        if owner is None:
            return
        # by the 15 case-sensitive characters: the suffix only makes them case-blind
        row = self.db.execute('SELECT IsActive FROM "User" WHERE substr(Id, 1, 15) = ?',
                              (str(owner)[:15],)).fetchone()
        if row is None or not row[0]:
            raise SalesforceError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                                  fields=["OwnerId"])

    def create(self, obj: str, values: dict, now: str) -> str:
        data = self.checked(obj, values, creating=True)
        self._check_owner(data)
        person = obj == "Account" and self._is_person(data)
        if obj == "Account" and not person:
            for name in PERSON_ONLY_FIELDS:
                if name in data:
                    raise not_writable(name)
        required = ("LastName",) if person else self.store.objects[obj].required
        if obj == "Account" and not person:
            required = ("Name",)
        missing = [name for name in required if not data.get(name)]
        if missing:
            raise SalesforceError("REQUIRED_FIELD_MISSING",
                                  f"Required fields are missing: [{', '.join(missing)}]",
                                  fields=missing)
        record_id = self._new_id(obj)
        row = {**self.store.objects[obj].defaults, **data, "Id": record_id,
               "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now}
        row.setdefault("OwnerId", INTEGRATION_USER_ID)
        row.update(derived(obj, row))
        if obj in ("Lead", "Contact") or person:
            row["Name"] = full_name(row.get("FirstName"), row.get("LastName"))
        if person:
            row["IsPersonAccount"] = 1
            row["RecordTypeId"] = PERSON_RECORD_TYPE_ID
            contact_id = self._new_id("Contact")
            row["PersonContactId"] = contact_id
            self._insert("Contact", self._mirror(row) | {
                "Id": contact_id, "AccountId": record_id, "IsPersonAccount": 1,
                "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now})
        self._insert(obj, row)
        return record_id

    @staticmethod
    def _is_person(data: dict) -> bool:
        if data.get("RecordTypeId") == PERSON_RECORD_TYPE_ID:
            return True
        return "Name" not in data and any(name in data for name in PERSON_ONLY_FIELDS)

    @staticmethod
    def _mirror(account: dict) -> dict:
        out = {contact: account[name] for name, contact in PERSON_MIRROR.items() if name in account}
        if "FirstName" in account or "LastName" in account:
            out["Name"] = full_name(account.get("FirstName"), account.get("LastName"))
        return out

    def update(self, obj: str, record_id: str, values: dict, now: str, admin: bool = False,
               system: bool = False) -> None:
        """An update by the API user, or (admin) by a person in the UI or by Salesforce itself."""
        row = self.live_row(obj, record_id)
        if not admin and obj == "Lead" and row["IsConverted"]:
            raise SalesforceError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        data = self.checked(obj, values, creating=False, admin=admin)
        self._check_owner(data)
        data.pop("Id", None)
        if not admin and obj == "Contact" and row["IsPersonAccount"] and data:
            # person fields are written through the Account
            raise not_writable(next(iter(data)))
        person = obj == "Account" and bool(row["IsPersonAccount"])
        if obj == "Account" and not person:
            for name in PERSON_ONLY_FIELDS:
                if name in data and not admin:
                    raise not_writable(name)
        stamps = {"SystemModstamp": now} if system else {"SystemModstamp": now,
                                                         "LastModifiedDate": now}
        merged = {**row, **data}
        if "FirstName" in data or "LastName" in data:
            if obj in ("Lead", "Contact") or person:
                data["Name"] = full_name(merged.get("FirstName"), merged.get("LastName"))
        data.update(derived(obj, {**row, **data}))
        self._update(obj, row["Id"], {**data, **stamps})
        if person and row["PersonContactId"]:
            mirror = self._mirror(data)
            self._update("Contact", row["PersonContactId"], {**mirror, **stamps})
        if admin and obj == "Contact" and row["IsPersonAccount"] and row["AccountId"]:
            back = {name: data[c] for name, c in PERSON_MIRROR.items() if c in data}
            self._update("Account", row["AccountId"], {**back, **stamps})

    def delete(self, obj: str, record_id: str, now: str) -> None:
        row = self.row(obj, record_id)
        if row is None:
            raise not_found()
        if row["IsDeleted"]:
            raise SalesforceError("ENTITY_IS_DELETED", "entity is deleted", 404)
        self._to_recycle_bin(obj, row["Id"], now)
        if obj == "Account" and row["PersonContactId"]:
            self._to_recycle_bin("Contact", row["PersonContactId"], now)
        elif obj == "Account":
            # a business Account takes its Contacts to the recycle bin with it
            for (contact_id,) in self.db.execute(
                    'SELECT Id FROM "Contact" WHERE AccountId = ? AND IsDeleted = 0',
                    (row["Id"],)).fetchall():
                self._to_recycle_bin("Contact", contact_id, now)
        if obj == "Contact" and row["IsPersonAccount"] and row["AccountId"]:
            self._to_recycle_bin("Account", row["AccountId"], now)

    def _to_recycle_bin(self, obj: str, record_id: str, now: str) -> None:
        self._update(obj, record_id, {"IsDeleted": 1, "SystemModstamp": now,
                                      "LastModifiedDate": now})

    def convert_lead(self, lead_id: str, contact_id: str | None, now: str) -> dict:
        """What SOAP convertLead does; into an existing Contact the opt-out does not travel."""
        lead = self.live_row("Lead", lead_id)
        if lead["IsConverted"]:
            raise SalesforceError("CANNOT_UPDATE_CONVERTED_LEAD",
                                  "cannot reference converted lead")
        if contact_id:
            contact = self.live_row("Contact", contact_id)
            account_id = contact["AccountId"]
        else:
            account_id = self.create("Account", {"Name": lead["Company"] or lead["LastName"]}, now)
            contact_id = self._new_id("Contact")
            self._insert("Contact", {
                "Id": contact_id, "AccountId": account_id, "FirstName": lead["FirstName"],
                "LastName": lead["LastName"], "Name": lead["Name"], "Email": lead["Email"],
                "HasOptedOutOfEmail": lead["HasOptedOutOfEmail"], "Phone": lead["Phone"],
                "LeadSource": lead["LeadSource"], "MailingCountry": lead["Country"],
                "OwnerId": lead["OwnerId"], "EmailBouncedDate": lead["EmailBouncedDate"],
                "EmailBouncedReason": lead["EmailBouncedReason"],
                "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now})
        self._update("Lead", lead["Id"], {
            "IsConverted": 1, "ConvertedContactId": to_18(contact_id),
            "ConvertedAccountId": account_id, "Status": "Closed - Converted",
            "ConvertedDate": datetime.now(UTC).date().isoformat(),
            "SystemModstamp": now, "LastModifiedDate": now})
        return {"lead_id": lead["Id"], "contact_id": to_18(contact_id), "account_id": account_id}
