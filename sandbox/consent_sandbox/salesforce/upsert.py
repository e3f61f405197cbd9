"""Upsert by external id: find the record by a key field, update it, or create it with the key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import SalesforceError
from .records import not_found
from .schema import FieldDef, to_18
from .store import fold, quote

if TYPE_CHECKING:
    from .org import Org


@dataclass
class MultipleMatches(Exception):
    """More than one live record carries the key value (the single-record call answers 300)."""

    field: str
    ids: list[str]

    def per_record(self) -> SalesforceError:
        return SalesforceError(
            "DUPLICATE_EXTERNAL_ID",
            f"{self.field}: more than one record found for external id field: "
            f"[{', '.join(self.ids)}]", fields=[self.field])


def unknown_key_field(name: str) -> SalesforceError:
    return SalesforceError("NOT_FOUND", "Provided external ID field does not exist or is not "
                           f"accessible: {name}", 404)


class Upserter:
    def __init__(self, org: Org):
        self.org = org

    def key_field(self, obj: str, name: str) -> FieldDef:
        """The key field as the API user sees it: hidden or non-key fields do not exist."""
        field = self.org.store.visible_fields(obj).get(name.lower())
        if field is None or not field.id_lookup:
            raise unknown_key_field(name)
        return field

    def matches(self, obj: str, field: FieldDef, value: str) -> list[str]:
        """Ids of the live records whose key equals ``value`` (text compares case-blind)."""
        if field.name == "Id":
            row = self.org.records.row(obj, value)
            return [row["Id"]] if row is not None and not row["IsDeleted"] else []
        sql = (f"SELECT Id FROM {quote(obj)} WHERE sf_fold({quote(field.name)}) = ? "
               "AND IsDeleted = 0 ORDER BY rowid LIMIT 10")
        return [r[0] for r in self.org.store.db.execute(sql, (fold(value),))]

    def upsert(self, obj: str, field: FieldDef, value: object, values: dict,
               now: str) -> tuple[str, bool]:
        """(Id, created). ``values`` may repeat the key; a different key value is refused."""
        if value is None or str(value) == "":
            if field.name == "Id":  # upsert by Id without one: a new record
                rest = {k: v for k, v in values.items() if k.lower() != "id"}
                return self.org.records.create(obj, rest, now), True
            raise SalesforceError("MISSING_ARGUMENT", f"{field.name} not specified",
                                  fields=[field.name])
        key = str(value)
        rest = {}
        for name, given in values.items():
            if name.lower() == field.name.lower():
                if given is not None and fold(str(given)) != fold(key):
                    raise SalesforceError(
                        "INVALID_FIELD", f"{field.name}: the value in the request body does not "
                        "match the external id value", fields=[field.name])
                continue
            rest[name] = given
        found = self.matches(obj, field, key)
        if len(found) > 1:
            raise MultipleMatches(field.name, found)
        if found:
            self.org.records.update(obj, found[0], rest, now)
            return found[0], False
        if field.name == "Id":
            if to_18(key) is None:
                raise SalesforceError("MALFORMED_ID", f"malformed id {key}", fields=["Id"])
            raise not_found()
        return self.org.records.create(obj, {**rest, field.name: key}, now), True
