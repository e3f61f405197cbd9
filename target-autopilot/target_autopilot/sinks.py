"""The `contacts` sink: bulk upserts of 100, list membership, deletions, per-record failures."""

from __future__ import annotations

import typing as t
from urllib.parse import quote

from singer_sdk.sinks import BatchSink

from .client import AutopilotClient, AutopilotRejected
from .contacts import BadRecord, email_of, payload

BULK_MAX = 100

if t.TYPE_CHECKING:
    from .target import TargetAutopilot


class ContactsSink(BatchSink):
    """Writes `contacts` records; failed records are collected and fail the run at the end."""

    MAX_SIZE_DEFAULT = BULK_MAX

    def __init__(self, target: TargetAutopilot, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(target, *args, **kwargs)
        self.autopilot = target

    @property
    def max_size(self) -> int:
        return BULK_MAX

    @property
    def include_sdc_metadata_properties(self) -> bool:
        return True  # keeps `_sdc_deleted_at`, the removal signal; other `_sdc_` keys are dropped

    def process_batch(self, context: dict) -> None:
        records = context.get("records", [])
        client, lists = self.autopilot.client, self.autopilot.lists
        upserts: list[tuple[dict, dict]] = []
        for record in records:
            try:
                if record.get("_sdc_deleted_at"):
                    self._delete(client, email_of(record))
                    continue
                contact = payload(record, self.autopilot.field_types(client))
            except BadRecord as exc:
                self.autopilot.failed(record.get("Email"), str(exc))
                continue
            names = list(record.get("lists") or [])
            if names and self.config.get("list_membership", "on_create") == "on_create":
                contact["_autopilot_list"] = lists.id_of(names[0])
            upserts.append((record, contact))
        written = self._upsert(client, upserts)
        for record, contact in written:
            names = list(record.get("lists") or [])
            if "_autopilot_list" in contact:
                names = names[1:]
            for name in names:
                lists.add(name, contact["Email"])
            for name in record.get("lists_remove") or []:
                lists.remove(name, contact["Email"])

    def _delete(self, client: AutopilotClient, email: str) -> None:
        client.request("DELETE", f"/contact/{quote(email)}", ok_statuses=(404,))
        self.logger.info("deleted contact %s", email)

    def _upsert(self, client: AutopilotClient,
                upserts: list[tuple[dict, dict]]) -> list[tuple[dict, dict]]:
        if not upserts:
            return []
        try:
            client.request("POST", "/contacts", json={"contacts": [c for _, c in upserts]})
            return upserts
        except AutopilotRejected as exc:
            self.logger.warning("bulk upsert of %d contacts refused (%s): sending them one by "
                                "one to find the bad ones", len(upserts), exc.message)
        written = []
        for record, contact in upserts:
            try:
                client.request("POST", "/contact", json={"contact": contact})
                written.append((record, contact))
            except AutopilotRejected as exc:
                self.autopilot.failed(contact["Email"], exc.message)
        return written

    def clean_up(self) -> None:
        self.autopilot.raise_if_failed()
        super().clean_up()
