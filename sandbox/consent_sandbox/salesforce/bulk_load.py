"""Fast inserts for the admin surface and the demo data: any field, no API validation."""

from __future__ import annotations

from .errors import no_such_column_on_write
from .records import STAMP_RE, full_name
from .schema import (
    INTEGRATION_USER_ID,
    PERSON_MIRROR,
    PERSON_RECORD_TYPE_ID,
    FieldDef,
    format_datetime,
    make_id,
    parse_datetime,
    to_18,
)
from .store import Store, quote


def raw_value(field: FieldDef, value: object) -> object:
    """Stored form of an admin-supplied value; malformed emails are kept, as old data has them."""
    if value is None:
        return 0 if field.type == "boolean" else None
    if field.type == "boolean":
        return int(bool(value))
    if field.type == "datetime" and isinstance(value, str) and not STAMP_RE.match(value):
        return format_datetime(parse_datetime(value))
    if field.is_id and isinstance(value, str):
        return to_18(value) or value
    return value


def insert_rows(store: Store, obj: str, records: list[dict], now: str) -> list[str]:
    """Insert rows as given (SystemModstamp, IsDeleted... included); returns their Ids.

    An Account with person fields becomes a Person Account with its mirrored Contact.
    """
    objdef = store.objects[obj]
    fields = {f.name.lower(): f for f in objdef.fields}
    numbers = iter(store.next_numbers(len(records) * (2 if obj == "Account" else 1)))
    rows: list[dict] = []
    contacts: list[dict] = []
    for record in records:
        data: dict[str, object] = {}
        for key, value in record.items():
            if key == "attributes":
                continue
            field = fields.get(key.lower())
            if field is None:
                raise no_such_column_on_write(key, obj)
            data[field.name] = raw_value(field, value)
        row = {**objdef.defaults, "OwnerId": INTEGRATION_USER_ID, "CreatedDate": now,
               "LastModifiedDate": now, "SystemModstamp": now, "IsDeleted": 0, **data}
        row.setdefault("Id", make_id(objdef.key_prefix, next(numbers)))
        if obj in ("Lead", "Contact") and "Name" not in data:
            row["Name"] = full_name(row.get("FirstName"), row.get("LastName"))
        person = obj == "Account" and (row.get("IsPersonAccount") or (
            "Name" not in data and ("LastName" in data or "PersonEmail" in data)))
        if person:
            row["Name"] = full_name(row.get("FirstName"), row.get("LastName"))
            row["IsPersonAccount"], row["RecordTypeId"] = 1, PERSON_RECORD_TYPE_ID
            contact_id = row.get("PersonContactId") or make_id("003", next(numbers))
            row["PersonContactId"] = contact_id
            contact = {c: row.get(a) for a, c in PERSON_MIRROR.items()}
            contacts.append({**contact, "Id": contact_id, "AccountId": row["Id"],
                             "IsPersonAccount": 1, "Name": row["Name"],
                             **{k: row[k] for k in ("CreatedDate", "LastModifiedDate",
                                                    "SystemModstamp", "IsDeleted")}})
        rows.append(row)
    with store.transaction():
        _insert_many(store, obj, rows)
        _insert_many(store, "Contact", contacts)
    return [row["Id"] for row in rows]


def _insert_many(store: Store, obj: str, rows: list[dict]) -> None:
    if not rows:
        return
    fields = store.objects[obj].fields
    columns = [f.name for f in fields]
    booleans = {f.name for f in fields if f.type == "boolean"}
    cols = ", ".join(quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    store.db.executemany(
        f"INSERT INTO {quote(obj)} ({cols}) VALUES ({marks})",
        [tuple((row.get(c) or 0) if c in booleans else row.get(c) for c in columns)
         for row in rows],
    )
