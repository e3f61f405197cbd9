"""The calls the sinks make, over the shared Salesforce session (sign-in, renewal, retries,
usage guard: consentsync_salesforce)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from simple_salesforce import Salesforce

from consentsync_salesforce import Bulk2, SalesforceSession, parse_sf_error

Query = Callable[[str], list[dict[str, Any]]]


def _post(sf: Salesforce, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sf.restful("composite/sobjects", method="POST",
                      json={"allOrNone": False, "records": records}) or []


# a record an ingest job left unprocessed (or did not report): sent again, as a lock error is
UNPROCESSED = {"success": False, "errors": [{
    "statusCode": "UNPROCESSED_RECORD", "fields": [],
    "message": "the Bulk job did not process this record (unprocessedrecords)"}]}


class SalesforceClient:
    """One signed-in session, shared by the sinks of a run."""

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.session = SalesforceSession(config, logger)
        self.max_retries = self.session.retry.max_retries
        self.backoff = self.session.retry.base_delay
        self.bulk = Bulk2(self.session)

    def usage_summary(self) -> str:
        return self.session.usage_text()

    def describe(self, sobject: str) -> dict[str, Any] | None:
        """The sObject's describe, or None when the org has no such object."""
        return self.session.describe(sobject)

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every row of a query, following `nextRecordsUrl` page by page."""
        return self.session.query(soql)

    def update_collection(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = {"allOrNone": False, "records": records}
        return self.session.restful("update (sObject Collections)", "composite/sobjects",
                                    "PATCH", json=body) or []

    def create_collection(self, records: list[dict[str, Any]],
                          recheck: Callable[[list[dict[str, Any]], Query], dict[int, str]]
                          ) -> list[dict[str, Any]]:
        """`POST composite/sobjects`. Sent again by the session's retries (a timeout, a 5xx:
        Salesforce may have inserted while the answer was lost), it first asks `recheck` which
        records exist now: those come back as found, never inserted twice."""
        attempts = 0

        def create(sf: Salesforce) -> list[dict[str, Any]]:
            nonlocal attempts
            attempts += 1
            if attempts == 1:
                return _post(sf, records)
            there = recheck(records, lambda soql: sf.query_all(soql)["records"])
            rest = [r for i, r in enumerate(records) if i not in there]
            answers = iter(_post(sf, rest) if rest else [])
            return [{"id": there[i], "success": True, "errors": []} if i in there
                    else next(answers) for i in range(len(records))]

        return self.session.call("create (sObject Collections)", create)

    def upsert_collection(self, sobject: str, external_id_field: str,
                          records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = {"allOrNone": False, "records": records}
        return self.session.restful(f"upsert of {sobject} by {external_id_field}",
                                    f"composite/sobjects/{sobject}/{external_id_field}", "PATCH",
                                    json=body) or []

    # Bulk API 2.0

    def bulk_insert(self, sobject: str, bodies: list[dict[str, Any]],
                    match_field: str) -> list[dict[str, Any]]:
        """One insert ingest job; per-record results in the sObject Collections shape, matched
        back to the records sent by `match_field` (case-blind: unique within a create batch)."""
        records = [{k: v for k, v in b.items() if k != "attributes"} for b in bodies]
        result = self.bulk.ingest(sobject, records, insert=True)

        def value(row: Mapping[str, Any]) -> str:
            return str(next((v for k, v in row.items() if k.lower() == match_field.lower()),
                            "")).lower()

        done = {value(row): {"success": True, "id": row.get("sf__Id"), "errors": []}
                for row in result.successful}
        done.update({value(row): {"success": False, "errors": [
            parse_sf_error(row.get("sf__Error", ""))]} for row in result.failed})
        return [done.get(value(r), UNPROCESSED) for r in records]

    def bulk_write(self, sobject: str, bodies: list[dict[str, Any]],
                   external_id_field: str | None = None) -> list[dict[str, Any]]:
        """One ingest job (update by Id, or upsert by `external_id_field`); per-record results
        in the sObject Collections shape, in the order sent."""
        key = external_id_field or "Id"
        records = [{("Id" if k == "id" else k): v for k, v in b.items() if k != "attributes"}
                   for b in bodies]
        result = self.bulk.ingest(sobject, records, external_id_field=external_id_field)
        done = {row.get(key, ""): {"success": True, "id": row.get("sf__Id"), "errors": []}
                for row in result.successful}
        done.update({row.get(key, ""): {"success": False, "id": row.get("sf__Id") or None,
                                        "errors": [parse_sf_error(row.get("sf__Error", ""))]}
                     for row in result.failed})
        return [done.get(str(r.get(key, "")), UNPROCESSED) for r in records]
