"""Records marked `_create: true`: inserted unless a record with their match value exists.

"Insert unless found": before inserting, one SOQL per object the `create_unless_found` setting
lists (default: a Lead or a Contact with the same Email) asks which values already have a
record; those are written nothing. That makes a create safe to replay (a run that crashed after
the insert finds its own record the next time) and keeps records the sender never saw (outside
its selection) from getting a duplicate. A create call that is retried (a timeout, a 5xx: its
answer may be lost while Salesforce inserted) looks again first, for the same reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import FieldAccessError
from .preflight import fields_by_name, hidden_field_message
from .results import RecordFailure
from .soql import match_queries
from .writer import write_all
from .writes import COLLECTION_LIMIT, Write

if TYPE_CHECKING:
    from .sinks import SalesforceSink

CREATE_FLAG = "_create"
BULK_CHUNK = 100_000  # records one insert job takes at most
DEFAULT_CREATE_UNLESS_FOUND = {"Lead": ["Lead.Email", "Contact.Email"],
                               "Contact": ["Lead.Email", "Contact.Email"]}

Query = Callable[[str], list[dict[str, Any]]]
Insert = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class CreateReport:
    written: int = 0
    calls: int = 0
    skipped: int = 0  # a record with the value existed
    failures: list[RecordFailure] = field(default_factory=list)


def is_create(record: Mapping[str, Any]) -> bool:
    return record.get(CREATE_FLAG) is True


@dataclass
class CreateBatch:
    """One batch's creates of one sObject, keyed (case-blind) by their match value."""

    sobject: str
    match_field: str
    writes: dict[str, Write] = field(default_factory=dict)
    invalid: list[RecordFailure] = field(default_factory=list)

    def add(self, record: Mapping[str, Any]) -> None:
        value = next((v for k, v in record.items() if k.lower() == self.match_field.lower()),
                     None)
        fields = {k: v for k, v in record.items()
                  if k != CREATE_FLAG and not k.startswith("_sdc_") and k.lower() != "id"}
        if not isinstance(value, str) or not value.strip():
            self.invalid.append(RecordFailure(
                self.sobject, "(new record)", (), "INVALID_RECORD",
                f"a record with {CREATE_FLAG}: true needs its {self.match_field} to check "
                f"for an existing record first; send {self.match_field}"))
            return
        origin = f"{self.match_field}={value.strip()}"
        # two creates for one value are one record: a later one wins field by field
        write = self.writes.setdefault(value.strip().lower(), Write(self.sobject, {}))
        write.merge(fields, origin)


def check_createable(sobject: str, describe: Mapping[str, Any], names: set[str]) -> None:
    known = fields_by_name(describe)
    for name in sorted(names):
        spec = known.get(name.lower())
        if spec is None:
            raise FieldAccessError(hidden_field_message(sobject, name))
        if not spec.get("createable"):
            raise FieldAccessError(
                f"{sobject}.{name} cannot be set on a new {sobject} by the Salesforce "
                f"integration user (createable: false): leave it out of the records marked "
                f"{CREATE_FLAG}, or grant edit access to the field for the user's profile")


def existing(values: Sequence[str], where: Sequence[str], query: Query) -> dict[str, str]:
    """Value (lower-cased) -> "Object Id" of a record holding it, for every value found in one
    of ``where`` ("Object.Field")."""
    found: dict[str, str] = {}
    for place in where:
        obj, _, name = place.partition(".")
        wanted = [v for v in values if v.lower() not in found]
        if not wanted:
            break
        for soql in match_queries(obj, name, wanted, []):
            for row in query(soql):
                value = next((v for k, v in row.items() if k.lower() == name.lower()), None)
                if isinstance(value, str):
                    found.setdefault(value.lower(), f"{obj} {row.get('Id')}")
    return found


def insert_unless_found(batch: CreateBatch, where: Sequence[str], query: Query,
                        insert: Insert, logger: logging.Logger, *, max_retries: int,
                        base_delay: float, chunk_size: int = COLLECTION_LIMIT) -> CreateReport:
    """Insert the batch's records whose value no record holds yet; the rest are skipped."""
    report = CreateReport(failures=list(batch.invalid))
    found = existing(list(batch.writes), where, query)
    todo = [w for value, w in batch.writes.items() if value not in found]
    report.skipped = len(found)
    if found:
        logger.info("%s: %d records to create already exist (%s): none created for them",
                    batch.sobject, len(found), ", ".join(sorted(found.values())[:5]))
    if todo:
        part = write_all(insert, todo, max_retries=max_retries, base_delay=base_delay,
                         logger=logger, chunk_size=chunk_size)
        report.written, report.calls = part.written, part.calls
        report.failures.extend(part.failures)
    return report


def recheck(bodies: list[dict[str, Any]], match_field: str, where: Sequence[str],
            query: Query) -> dict[int, str]:
    """Which of ``bodies`` (by index) a record already holds, with its Id: asked before a
    create call is sent again, as its lost answer may have created them."""
    values = [str(next((v for k, v in b.items() if k.lower() == match_field.lower()), ""))
              for b in bodies]
    there = existing([v for v in values if v], where, query)
    return {i: there[v.lower()].split(" ")[-1] for i, v in enumerate(values)
            if v and v.lower() in there}


def where_to_look(config: Mapping[str, Any], sobject: str, match_field: str) -> list[str]:
    """The `create_unless_found` places of ``sobject``; its own match field at least."""
    setting = config.get("create_unless_found")
    places = list((DEFAULT_CREATE_UNLESS_FOUND if setting is None else setting).get(sobject)
                  or [])
    own = f"{sobject}.{match_field}"
    return places if any(p.lower() == own.lower() for p in places) else [own, *places]


def write_creates(sink: SalesforceSink, records: list[dict[str, Any]]) -> None:
    """The creates of one batch: checked, looked up, inserted (200 a call, or one Bulk job)."""
    match_field = sink.keys.match_field or "Email"
    batch = CreateBatch(sink.sobject, match_field)
    for record in records:
        batch.add(record)
    assert sink._describe is not None
    check_createable(sink.sobject, sink._describe,
                     {n for w in batch.writes.values() for n in w.fields})
    where = where_to_look(sink.config, sink.sobject, match_field)
    client = sink.client
    bulk = sink._bulk(len(batch.writes))

    def insert(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if bulk and len(bodies) >= sink.bulk_threshold:
            return client.bulk_insert(sink.sobject, bodies, match_field)
        out: list[dict[str, Any]] = []
        for start in range(0, len(bodies), COLLECTION_LIMIT):
            chunk = bodies[start:start + COLLECTION_LIMIT]
            out.extend(client.create_collection(
                chunk, lambda sent, query: recheck(sent, match_field, where, query)))
        return out

    report = insert_unless_found(batch, where, client.query, insert, sink.logger,
                                 max_retries=client.max_retries, base_delay=client.backoff,
                                 chunk_size=BULK_CHUNK if bulk else COLLECTION_LIMIT)
    for failure in report.failures:
        sink._fail(failure)
    sink.logger.info("%s: %d records to create: %d created in %d calls, %d already existed, "
                     "%d rejected; %s", sink.sobject, len(batch.writes) + len(batch.invalid),
                     report.written, report.calls, report.skipped, len(report.failures),
                     client.usage_summary())
