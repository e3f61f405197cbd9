"""sObject Collections: up to 200 records a call, one result per record, allOrNone."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import DEFAULT_CODES, DEFAULT_MESSAGES, SalesforceError
from .schema import PREFIXES, WRITABLE_OBJECTS, now_stamp, to_18
from .upsert import MultipleMatches, Upserter

if TYPE_CHECKING:
    from .org import Org

MAX_RECORDS = 200
ROLLED_BACK = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
               "message": "Record rolled back because not all records were valid and the request "
                          "was using AllOrNone header", "fields": []}

# one record's work: returns its Id, or (Id, created) for upserts; raises SalesforceError
Operation = Callable[[object, str], "str | tuple[str, bool]"]


def too_many() -> SalesforceError:
    return SalesforceError("EXCEEDED_ID_LIMIT",
                           "record limit reached. cannot submit more than 200 records into this "
                           "call")


class CollectionWriter:
    def __init__(self, org: Org):
        self.org = org

    def _records(self, body: object) -> tuple[list, bool]:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise SalesforceError("JSON_PARSER_ERROR",
                                  "The request body must be an object with a records array")
        if len(body["records"]) > MAX_RECORDS:
            raise too_many()
        return body["records"], bool(body.get("allOrNone", False))

    def create(self, body: object, endpoint: str) -> list[dict]:
        records, all_or_none = self._records(body)

        def one(record: object, now: str) -> str:
            obj = self._type(record, None)
            return self.org.records.create(obj, record, now)

        return self._run(records, all_or_none, one, lambda r: None, endpoint, "POST")

    def update(self, body: object, endpoint: str) -> list[dict]:
        records, all_or_none = self._records(body)

        def one(record: object, now: str) -> str:
            record_id = self._id_of(record)
            if record_id is None:
                raise SalesforceError("MISSING_ARGUMENT", "Id not specified in an update call")
            obj = self._type(record, record_id)
            values = {k: v for k, v in record.items() if k.lower() != "id"}
            self.org.records.update(obj, record_id, values, now)
            return to_18(record_id) or record_id

        return self._run(records, all_or_none, one, self._id_of, endpoint, "PATCH")

    def upsert(self, sobject: str, key: str, body: object, endpoint: str) -> list[dict]:
        """``PATCH composite/sobjects/{T}/{key}``: each result also says ``created``."""
        obj = self._type({"attributes": {"type": sobject}}, None)
        upserter = Upserter(self.org)
        field = upserter.key_field(obj, key)
        records, all_or_none = self._records(body)

        def one(record: object, now: str) -> tuple[str, bool]:
            declared = self._type(record, None) if isinstance(record, dict) and (
                record.get("attributes") or {}).get("type") else obj
            if declared != obj:
                raise SalesforceError("INVALID_TYPE", f"sObject type '{declared}' does not match "
                                      f"the upsert's type {obj}")
            assert isinstance(record, dict)
            value = next((v for k, v in record.items() if k.lower() == field.name.lower()), None)
            try:
                return upserter.upsert(obj, field, value, record, now)
            except MultipleMatches as many:
                raise many.per_record() from None

        return self._run(records, all_or_none, one,
                         lambda r: None, endpoint, "PATCH", upsert=True)

    def delete(self, ids: list[str], all_or_none: bool, endpoint: str) -> list[dict]:
        if len(ids) > MAX_RECORDS:
            raise too_many()

        def one(record_id: object, now: str) -> str:
            obj = self._type({}, str(record_id))
            self.org.records.delete(obj, str(record_id), now)
            return to_18(str(record_id)) or str(record_id)

        return self._run(ids, all_or_none, one, lambda i: str(i), endpoint, "DELETE")

    @staticmethod
    def _id_of(record: object) -> str | None:
        if not isinstance(record, dict):
            return None
        for key in ("id", "Id"):
            if record.get(key):
                return str(record[key])
        url = (record.get("attributes") or {}).get("url")
        return url.rsplit("/", 1)[-1] if url else None

    @staticmethod
    def _type(record: object, record_id: str | None) -> str:
        if not isinstance(record, dict):
            raise SalesforceError("JSON_PARSER_ERROR", "Each record must be a JSON object")
        declared = (record.get("attributes") or {}).get("type")
        from_id = PREFIXES.get(to_18(record_id)[:3]) if record_id and to_18(record_id) else None
        if record_id is not None and from_id is None:
            raise SalesforceError("MALFORMED_ID", f"malformed id {record_id}")
        name = declared or from_id
        if not name:
            raise SalesforceError("INVALID_TYPE", "Must send a concrete entity type.")
        canonical = next((o for o in WRITABLE_OBJECTS if o.lower() == str(name).lower()), None)
        if canonical is None:
            raise SalesforceError("INVALID_TYPE", f"sObject type '{name}' is not supported.")
        if from_id and from_id != canonical:
            raise SalesforceError("MALFORMED_ID", f"malformed id {record_id}")
        return canonical

    def _run(self, items: list, all_or_none: bool, operation: Operation,
             known_id: Callable[[object], str | None], endpoint: str, method: str,
             upsert: bool = False) -> list[dict]:
        store, instruments = self.org.store, self.org.instruments
        now = now_stamp()
        results: list[dict] = []
        failed = False
        # inside a /composite request the outer transaction decides; a savepoint stands in
        nested = store.db.in_transaction
        store.db.execute("SAVEPOINT collection" if nested else "BEGIN IMMEDIATE")
        try:
            for item in items:
                try:
                    fault = instruments.take_fault(endpoint, method, per_record=True)
                    if fault is not None:
                        code = fault.error_code or DEFAULT_CODES.get(fault.status,
                                                                     "UNKNOWN_EXCEPTION")
                        raise SalesforceError(code, fault.message or DEFAULT_MESSAGES.get(
                            code, code))
                    injected = self.org.record_failures.check(item)
                    if injected is not None:
                        raise injected
                    with store.savepoint():
                        outcome = operation(item, now)
                    record_id, created = outcome if isinstance(outcome, tuple) else (outcome,
                                                                                     None)
                    result: dict = {"id": record_id, "success": True, "errors": []}
                    if created is not None:
                        result["created"] = created
                    results.append(result)
                except SalesforceError as error:
                    failed = True
                    result = {"success": False, "errors": [error.per_record()]}
                    item_id = known_id(item)
                    if item_id and to_18(item_id):
                        result = {"id": to_18(item_id), **result}
                    if upsert:
                        result["created"] = False
                    results.append(result)
        except BaseException:
            self._finish(nested, commit=False)
            raise
        if all_or_none and failed:
            self._finish(nested, commit=False)
            for result in results:
                if result["success"]:
                    result["success"], result["errors"] = False, [dict(ROLLED_BACK)]
                    if method == "POST" or result.get("created"):
                        result.pop("id")  # the record no longer exists
                    if upsert:
                        result["created"] = False
        else:
            self._finish(nested, commit=True)
        return results

    def _finish(self, nested: bool, commit: bool) -> None:
        db = self.org.store.db
        if nested:
            if not commit:
                db.execute("ROLLBACK TO collection")
            db.execute("RELEASE collection")
        else:
            db.execute("COMMIT" if commit else "ROLLBACK")
