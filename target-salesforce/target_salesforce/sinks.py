"""The batch sink: one per stream, the stream named after the sObject it writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from singer_sdk.sinks import BatchSink

from .client import SalesforceClient
from .creates import is_create, write_creates
from .errors import UnknownObjectError
from .expectations import check_expected
from .lookup import already_equal, lookup_filters, rows_by_value
from .preflight import check_fields
from .records import InvalidRecord, KeyedRecord, StreamKeys, key_record, upsert_key
from .results import RecordFailure
from .soql import match_queries
from .writer import WriteReport, write_all
from .writes import COLLECTION_LIMIT, Write

DEFAULT_BATCH_SIZE = 10_000
DEFAULT_BULK_THRESHOLD = 2_000  # writes; below, sObject Collections (200 a call) cost less
BULK_JOB_RECORDS = 100_000  # records an ingest job takes at most here (its CSV stays small)

if TYPE_CHECKING:
    from .target import TargetSalesforce


class SalesforceSink(BatchSink):
    """Updates records by Id or by match field, or upserts them by external id."""

    # batch_size_rows; a batch at or above bulk_threshold writes through Bulk API 2.0
    MAX_SIZE_DEFAULT = DEFAULT_BATCH_SIZE

    def __init__(self, target: TargetSalesforce, stream_name: str, schema: dict,
                 key_properties: Sequence[str] | None) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self._target = target
        self._describe: dict[str, Any] | None = None
        self._canonical: dict[str, str] = {}  # field name as sent -> as Salesforce spells it
        # updates short of a full collection call wait for the next batch (see flush)
        self._carry: list[Write] = []
        target.register_sink(self)
        self.keys = StreamKeys(
            sobject=stream_name,
            match_field=(self.config.get("match_fields") or {}).get(stream_name),
            external_id_field=((self.config.get("external_id_fields") or {}).get(stream_name)
                               or upsert_key(key_properties)),
        )

    @property
    def sobject(self) -> str:
        return self.stream_name

    @property
    def bulk_threshold(self) -> int:
        value = self.config.get("bulk_threshold")
        return DEFAULT_BULK_THRESHOLD if value is None else int(value)

    def _bulk(self, count: int) -> bool:
        return bool(self.bulk_threshold) and count >= self.bulk_threshold

    @property
    def client(self) -> SalesforceClient:
        return self._target.client

    def process_batch(self, context: dict) -> None:
        records = context.get("records") or []
        if not records:
            return
        describe = self._describe_once()
        creates = [r for r in records if is_create(r)]  # insert unless found (creates.py)
        keyed = self._key_records([r for r in records if not is_create(r)])
        if creates:
            write_creates(self, creates)
        if not keyed:
            return
        self._preflight(describe, keyed)
        keyed, stale = self._current(describe, keyed)
        updates: dict[str, Write] = {w.target: w for w in self._carry}
        self._carry = []
        upserts: dict[str, Write] = {}
        unmatched = unchanged = 0
        matches = self._look_up([k for k in keyed if k.kind == "match"])
        for record in keyed:  # input order: a later record wins field by field
            fields = {self._canonical.get(n, n): v for n, v in record.fields.items()}
            if record.kind == "id":
                self._add(updates, Write(self.sobject, {}, record_id=record.key), fields,
                          record.origin)
            elif record.kind == "external_id":
                external = (self._canonical[self.keys.external_id_field or ""], record.key)
                self._add(upserts, Write(self.sobject, {}, external_id=external), fields,
                          record.origin)
            else:
                rows = matches.get(record.key.lower(), [])
                unmatched += not rows
                for row in rows:
                    if row["Id"] not in updates and already_equal(row, fields):
                        unchanged += 1
                        continue
                    self._add(updates, Write(self.sobject, {}, record_id=row["Id"]), fields,
                              record.origin)
        pending = [w for w in updates.values() if w.fields]
        # one batch fans out to any number of updates: send whole calls, keep the rest (a Bulk
        # job takes them all)
        full = len(pending) if self._bulk(len(pending)) else (
            len(pending) - len(pending) % COLLECTION_LIMIT)
        self._carry = pending[full:]
        report = self._write(pending[:full], [w for w in upserts.values() if w.fields])
        if unmatched:
            self.logger.info("%d %s records matched no %s by %s: nothing written for them",
                             unmatched, self.sobject, self.sobject, self.keys.match_field)
        self.logger.info(
            "%s batch of %d records: %d written in %d calls, %d already up to date, %d "
            "rejected, %d skipped as changed since the sender read them, %d held for the next "
            "call; %s", self.sobject, len(keyed) + stale, report.written, report.calls,
            unchanged, len(report.failures), stale, len(self._carry),
            self.client.usage_summary())

    def flush(self) -> None:
        """Write the updates still held back; the target calls this before any state moves."""
        if not self._carry:
            return
        carry, self._carry = self._carry, []
        report = self._write(carry, [])
        self.logger.info("%s: %d held updates written in %d calls, %d rejected; %s",
                         self.sobject, report.written, report.calls, len(report.failures),
                         self.client.usage_summary())

    # steps

    def _key_records(self, records: list[dict]) -> list[KeyedRecord]:
        keyed = []
        for record in records:
            try:
                keyed.append(key_record(record, self.keys))
            except InvalidRecord as exc:
                self._fail(RecordFailure(self.sobject, "(no key)", (), "INVALID_RECORD",
                                         str(exc)))
        return keyed

    def _describe_once(self) -> dict[str, Any]:
        if self._describe is None:
            describe = self.client.describe(self.sobject)
            if describe is None:
                raise UnknownObjectError(
                    f"Salesforce has no sObject named {self.sobject!r} that the integration "
                    "user can see. Name each stream after the sObject it writes (Lead, Contact, "
                    "Account, ...) and check the user's object permissions.")
            self._describe = describe
        return self._describe

    def _preflight(self, describe: dict[str, Any], keyed: list[KeyedRecord]) -> None:
        """Check each field the first time a record of the stream sends it."""
        written = {n for k in keyed for n in k.fields if n not in self._canonical}
        read = {key for key, kind in ((self.keys.match_field, "match"),
                                      (self.keys.external_id_field, "external_id"))
                if key and key not in self._canonical and any(k.kind == kind for k in keyed)}
        read |= {n for k in keyed for n in (k.expected or {}) if n not in self._canonical}
        if written or read:
            self._canonical.update(check_fields(self.sobject, describe, written, read))

    def _current(self, describe: dict[str, Any], keyed: list[KeyedRecord]
                 ) -> tuple[list[KeyedRecord], int]:
        """Drop the records whose `_expected` values Salesforce no longer holds."""
        if not any(k.expected for k in keyed):
            return keyed, 0
        checked = check_expected(self.sobject, describe, keyed, self._canonical,
                                 self.client.query)
        for stale in checked.stale:
            self.logger.info("%s %s skipped: changed in Salesforce since the sender read it "
                             "(not written; the sender decides again at its next read)",
                             self.sobject, stale)
        return checked.current, len(checked.stale)

    def _look_up(self, keyed: list[KeyedRecord]) -> dict[str, list[dict[str, Any]]]:
        if not keyed or not self.keys.match_field or self._describe is None:
            return {}
        match_field = self._canonical[self.keys.match_field]
        # read the values to write too, so updates that change nothing can be dropped
        select = sorted({self._canonical[n] for k in keyed for n in k.fields})
        rows: list[dict[str, Any]] = []
        for soql in match_queries(self.sobject, match_field, [k.key for k in keyed], select,
                                  lookup_filters(self.sobject, match_field, self._describe)):
            rows.extend(self.client.query(soql))
        return rows_by_value(rows, match_field)

    def _write(self, updates: list[Write], upserts: list[Write]) -> WriteReport:
        retry = {"max_retries": self.client.max_retries, "base_delay": self.client.backoff,
                 "logger": self.logger}
        report = WriteReport()
        field = upserts[0].external_id[0] if upserts and upserts[0].external_id else None
        for writes, external_id in ((updates, None), (upserts, field)):
            if not writes:
                continue
            if self._bulk(len(writes)):
                self.logger.info("%s: %d %s at least bulk_threshold=%d: one Bulk API 2.0 "
                                 "ingest job", self.sobject, len(writes),
                                 "upserts" if external_id else "updates", self.bulk_threshold)
                part = write_all(lambda bodies, f=external_id: self._send_bulk(bodies, f),
                                 writes, chunk_size=BULK_JOB_RECORDS, **retry)
            else:
                part = write_all(lambda bodies, f=external_id: self._send_rest(bodies, f),
                                 writes, **retry)
            report.written += part.written
            report.calls += part.calls
            report.failures.extend(part.failures)
        for failure in report.failures:
            self._fail(failure)
        return report

    def _send_rest(self, bodies: list[dict[str, Any]], external_id: str | None
                   ) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for start in range(0, len(bodies), COLLECTION_LIMIT):
            chunk = bodies[start:start + COLLECTION_LIMIT]
            results.extend(self.client.upsert_collection(self.sobject, external_id, chunk)
                           if external_id else self.client.update_collection(chunk))
        return results

    def _send_bulk(self, bodies: list[dict[str, Any]], external_id: str | None
                   ) -> list[dict[str, Any]]:
        # records sent again (lock errors, unprocessed) are few: REST is cheaper for them
        if not self._bulk(len(bodies)):
            return self._send_rest(bodies, external_id)
        return self.client.bulk_write(self.sobject, bodies, external_id)

    @staticmethod
    def _add(pending: dict[str, Write], write: Write, fields: dict[str, Any], origin: str) -> None:
        pending.setdefault(write.target, write).merge(fields, origin)

    def _fail(self, failure: RecordFailure) -> None:
        self.logger.error("Not written: %s", failure)
        self._target.failures.add(failure)
