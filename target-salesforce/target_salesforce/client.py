"""The calls the sinks make, over the shared Salesforce session (sign-in, renewal, retries,
usage guard: consentsync_salesforce)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from consentsync_salesforce import SalesforceSession


class SalesforceClient:
    """One signed-in session, shared by the sinks of a run."""

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.session = SalesforceSession(config, logger)
        self.max_retries = self.session.retry.max_retries
        self.backoff = self.session.retry.base_delay

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

    def upsert_collection(self, sobject: str, external_id_field: str,
                          records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = {"allOrNone": False, "records": records}
        return self.session.restful(f"upsert of {sobject} by {external_id_field}",
                                    f"composite/sobjects/{sobject}/{external_id_field}", "PATCH",
                                    json=body) or []
