"""Two-way mapped fields (field_map) between Salesforce and Autopilot: the run's plumbing.

The mapper hands every source record to :class:`FieldSync` (their mapped values go to a scratch
file, like the consent observations); when the decisions are made, :class:`FieldSession` loads
each chunk's field memory from the ledger, asks :func:`field_rules.decide_field` per person and
field, saves the outcome and its audit trail in the same transaction, and adds the writes to the
person's outgoing records: Salesforce updates by Id, Autopilot fields on the contact's upsert,
each with the values it expects to replace (`_expected`: compare-and-set in target-salesforce
and target-autopilot).

The Salesforce fields' types and writability come from the CRM stream's SCHEMA (tap-salesforce-
optout marks fields describe calls not updateable `readOnly`) and are kept in the ledger, so a
run that reads Autopilot knows them too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, or_, select

from consent_mapper import field_rules
from consent_mapper.adapters import autopilot, salesforce
from consent_mapper.field_rules import (
    EMPTY,
    READ_ONLY,
    Agreed,
    FieldContext,
    FieldMemory,
    Reading,
)
from consent_mapper.field_values import Unconvertible, canonical, decode, encode, kind_of
from consent_mapper.ledger.schema import field_agreed, field_specs, field_values
from consent_mapper.ledger.store import LedgerTransaction, now_iso
from consent_mapper.rules import (
    CRM,
    DELETE,
    PLATFORM,
    AuditEvent,
    Observation,
    RecordKey,
    held_back,
)
from consent_mapper.scratch import open_scratch
from consent_mapper.timestamps import utc

CHUNK = 500


@dataclass(frozen=True)
class Spec:
    kind: str
    read_only: bool


class FieldSync:
    """One run's view of the mapped fields: the readings, the CRM schema's specs."""

    def __init__(self, field_map: Mapping[str, str], source: str, platform: str,
                 logger: logging.Logger) -> None:
        self.field_map = dict(field_map)  # Salesforce field -> Autopilot field
        self.source, self.platform, self.logger = source, platform, logger
        self.specs: dict[tuple[str, str], Spec] = {}  # from this run's CRM SCHEMA messages
        self.db = open_scratch()
        self.db.execute("CREATE TABLE readings (email TEXT, role TEXT, system TEXT, object TEXT, "
                        "record_id TEXT, at TEXT, raw TEXT)")
        self._rows: list[tuple] = []

    @classmethod
    def for_run(cls, field_map: Mapping[str, str], source: str, platform: str,
                logger: logging.Logger) -> FieldSync | None:
        """Mapped fields travel both ways with Autopilot; elsewhere they stay in the profile."""
        if platform != autopilot.SYSTEM or not field_map:
            return None
        return cls(field_map, source, platform, logger)

    def profile_map(self) -> dict[str, str]:
        return {}  # the mapped fields travel here, not in the one-way profile

    # reading

    def schema(self, message: Mapping[str, Any]) -> None:
        stream = message.get("stream")
        if self.source != CRM or stream not in salesforce.STREAMS:
            return
        properties = (message.get("schema") or {}).get("properties") or {}
        for name in self.field_map:
            if name in properties:
                spec = properties[name]
                self.specs[(str(stream), name)] = Spec(kind_of(spec), bool(spec.get("readOnly")))

    def read_crm(self, stream: str, record: Mapping[str, Any], seen: Observation) -> None:
        if not (seen.live and seen.selected):
            return
        raw = {name: record[name] for name in self.field_map if name in record}
        if raw:
            self._add(seen, raw)

    def read_platform(self, record: Mapping[str, Any], seen: Observation) -> None:
        custom = {str(c.get("kind")): c.get("value") for c in record.get("custom_fields") or []
                  if isinstance(c, Mapping)}
        folded = {k.lower(): v for k, v in custom.items()}
        raw = {}
        for name, target in self.field_map.items():
            if target in custom:
                raw[name] = custom[target]
            elif target.lower() in folded:
                raw[name] = folded[target.lower()]
            elif target in autopilot.STANDARD_FIELDS and target in record:
                raw[name] = record[target]
        if raw:
            self._add(seen, raw)

    def _add(self, seen: Observation, raw: dict[str, Any]) -> None:
        key = seen.key
        self._rows.append((seen.email, key.role, key.system, key.object, key.record_id,
                           utc(seen.changed_at), json.dumps(raw, default=str)))
        if len(self._rows) >= 5000:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self.db.executemany("INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?)", self._rows)
            self._rows = []

    def emails(self) -> set[str]:
        self._flush()
        return {row[0] for row in self.db.execute("SELECT DISTINCT email FROM readings")}

    def readings(self, emails: list[str]) -> dict[str, list[tuple[RecordKey, str, dict]]]:
        self._flush()
        found: dict[str, list[tuple[RecordKey, str, dict]]] = {e: [] for e in emails}
        marks = ",".join("?" * len(emails))
        for email, role, system, obj, record_id, at, raw in self.db.execute(
                f"SELECT * FROM readings WHERE email IN ({marks}) ORDER BY rowid",  # noqa: S608
                emails):
            found[email].append((RecordKey(role, system, obj, record_id), at, json.loads(raw)))
        return found

    def close(self) -> None:
        self.db.close()

    def session(self, tx: LedgerTransaction, run_id: int, reads: int, retry_after_runs: int,
                dry_run: bool) -> FieldSession:
        return FieldSession(self, tx, run_id, reads, retry_after_runs, dry_run)


class FieldSession:
    """The decisions of one run, inside the ledger transaction of the consent decisions."""

    def __init__(self, sync: FieldSync, tx: LedgerTransaction, run_id: int, reads: int,
                 retry_after_runs: int, dry_run: bool) -> None:
        self.sync, self.tx, self.run_id = sync, tx, run_id
        self.reads, self.retry_after_runs, self.dry_run = reads, retry_after_runs, dry_run
        self.target = PLATFORM if sync.source == CRM else CRM
        self.now = now_iso()
        self.specs = self._specs()
        self.memory: dict[str, dict[str, dict[RecordKey, FieldMemory]]] = {}
        self.agreed: dict[str, dict[str, Agreed]] = {}
        self.inputs: dict[str, list[tuple[RecordKey, str, dict]]] = {}
        self._values: list[dict] = []
        self._agreed: list[dict] = []
        self.counts = {"written": 0, "echoes": 0, "conflicts": 0, "read_only": 0}
        self._warned: set[tuple[str, str]] = set()

    # specs

    def _specs(self) -> dict[tuple[str, str], Spec]:
        """This run's CRM schema, saved; otherwise what the last CRM read saved."""
        c, sync = self.tx.c, self.sync
        if sync.specs:
            self.tx._upsert(field_specs, ("object", "field"), ("kind", "read_only", "updated_at"),
                            [{"object": o, "field": f, "kind": s.kind, "read_only": s.read_only,
                              "updated_at": self.now} for (o, f), s in sync.specs.items()])
        rows = c.execute(select(field_specs).where(field_specs.c.field.in_(sync.field_map)))
        return {(r.object, r.field): Spec(r.kind, bool(r.read_only)) for r in rows}

    def _kind(self, name: str, obj: str | None = None) -> str:
        if obj is not None and (obj, name) in self.specs:
            return self.specs[(obj, name)].kind
        for stream in salesforce.STREAMS:
            if (stream, name) in self.specs:
                return self.specs[(stream, name)].kind
        return "string"

    # who needs a decision

    def attention(self) -> set[str]:
        """People with a target record that does not hold the agreed value of a field."""
        v, a, s = field_values.c, field_agreed.c, field_specs.c
        system = self.sync.platform if self.target == PLATFORM else salesforce.SYSTEM
        live_pending = and_(v.pending.is_not(None), or_(
            v.pending_run.is_(None), v.pending_run > self.reads - self.retry_after_runs))
        holds = case((live_pending, v.pending), else_=v.observed)
        query = (select(v.email).distinct()
                 .join(field_agreed, and_(a.email == v.email, a.field == v.field))
                 .outerjoin(field_specs, and_(s.object == v.object, s.field == v.field))
                 .where(v.system == system, v.field.in_(self.sync.field_map),
                        a.value != EMPTY, or_(holds.is_(None), holds != a.value),
                        or_(s.read_only.is_(None), s.read_only.is_(False))))
        return {row.email for row in self.tx.c.execute(query)}

    def emails(self) -> set[str]:
        return self.sync.emails()

    # per chunk

    def load(self, emails: list[str]) -> None:
        self.memory = {e: {} for e in emails}
        self.agreed = {e: {} for e in emails}
        fields = list(self.sync.field_map)
        for start in range(0, len(emails), CHUNK):
            chunk = emails[start:start + CHUNK]
            for r in self.tx.c.execute(select(field_values).where(
                    field_values.c.email.in_(chunk), field_values.c.field.in_(fields))):
                role = CRM if r.system == salesforce.SYSTEM else PLATFORM
                key = RecordKey(role, r.system, r.object, r.record_id)
                self.memory[r.email].setdefault(r.field, {})[key] = FieldMemory(
                    key, r.observed, r.observed_at, r.pending, r.pending_at, r.pending_run,
                    r.noted)
            for r in self.tx.c.execute(select(field_agreed).where(
                    field_agreed.c.email.in_(chunk), field_agreed.c.field.in_(fields))):
                self.agreed[r.email][r.field] = Agreed(r.value, r.changed_at, r.source)
        self.inputs = self.sync.readings(emails)

    def person(self, email: str, decision: Any,  # noqa: ANN401 - rules.Decision
               records: list[tuple[str, dict[str, Any]]]
               ) -> tuple[list[tuple[str, dict[str, Any]]], list[AuditEvent]]:
        """Decide every mapped field of one person; returns their records and field events."""
        targets = self._targets(decision)
        readings = self.inputs.get(email, [])
        writes: dict[RecordKey, dict[str, tuple[Any, Any]]] = {}
        events: list[AuditEvent] = []
        for name in self.sync.field_map:
            memories = self.memory.get(email, {}).get(name, {})
            agreed = self.agreed.get(email, {}).get(name)
            ctx = FieldContext(
                source=self.sync.source, now=self.now, reads=self.reads,
                targets=[k for k in targets if k.role != CRM or (k.object, name) in self.specs],
                read_only=frozenset(o for (o, f), s in self.specs.items()
                                    if f == name and s.read_only),
                one_way=self._one_way(name), retry_after_runs=self.retry_after_runs)
            out = field_rules.decide_field(name, agreed, memories,
                                           self._readings(name, readings), ctx)
            self._save(email, name, memories, agreed, out)
            for write in out.writes:
                writes.setdefault(write.key, {})[name] = (decode(write.value), write.expected)
            events.extend(out.events)
            self.counts["echoes"] += out.echoes
            self.counts["conflicts"] += out.conflicts
            self.counts["read_only"] += sum(e.rule == READ_ONLY for e in out.events)
            for event in out.events:
                if event.rule == READ_ONLY:
                    self.sync.logger.warning("%s: %s", email, event.detail)
        self.counts["written"] += len(writes)
        if events:
            self.tx.audit(self.run_id, email, events)
        return self._records(records, writes), events

    def _one_way(self, name: str) -> bool:
        specs = [s for (_, f), s in self.specs.items() if f == name]
        return bool(specs) and all(s.read_only for s in specs)

    def _targets(self, decision: Any) -> list[RecordKey]:  # noqa: ANN401
        memory = decision.memory
        if self.target == CRM:
            return [k for k, r in memory.records.items()
                    if k.role == CRM and k.object != "by_email" and r.live and r.selected
                    and r.writable]
        if decision.contact_action == DELETE:
            return []
        if decision.contact is not None:
            contact = memory.records.get(decision.contact)
            if held_back(contact):
                # its re-subscribe waits for its first read, which brings the field's value
                # and so a later write (R4; rules.held_back)
                return []
            return [decision.contact] if contact is None or contact.live else []
        contacts = [k for k, r in memory.records.items()
                    if k.role == PLATFORM and k.system == self.sync.platform and r.live]
        return contacts[:1]

    def _readings(self, name: str, readings: list[tuple[RecordKey, str, dict]]
                  ) -> list[Reading]:
        found = []
        for key, at, raw in readings:
            if name not in raw:
                continue
            kind = self._kind(name, key.object if key.role == CRM else None)
            try:
                value = canonical(raw[name], kind)
            except Unconvertible as exc:
                if (key.record_id, name) not in self._warned:
                    self._warned.add((key.record_id, name))
                    self.sync.logger.warning(
                        "%s: %s is not written to Salesforce: %s for a %s field; correct it in "
                        "%s", key, self.sync.field_map[name], exc, kind, key.system)
                continue
            found.append(Reading(key, encode(value), at))
        return found

    def _save(self, email: str, name: str, before: Mapping[RecordKey, FieldMemory],
              agreed: Agreed | None, out: field_rules.FieldOutcome) -> None:
        for key, memory in out.records.items():
            if before.get(key) == memory:
                continue
            self._values.append({
                "system": key.system, "object": key.object, "record_id": key.record_id,
                "field": name, "email": email, "observed": memory.observed,
                "observed_at": memory.observed_at, "pending": memory.pending,
                "pending_at": memory.pending_at, "pending_run": memory.pending_run,
                "noted": memory.noted, "updated_at": self.now})
        if out.agreed is not None and out.agreed != agreed:
            self._agreed.append({"email": email, "field": name, "value": out.agreed.value,
                                 "changed_at": out.agreed.changed_at,
                                 "source": out.agreed.source, "updated_at": self.now})

    def _records(self, records: list[tuple[str, dict[str, Any]]],
                 writes: dict[RecordKey, dict[str, tuple[Any, Any]]]
                 ) -> list[tuple[str, dict[str, Any]]]:
        if not writes:
            return records
        out = list(records)
        for key, values in writes.items():
            if key.role == CRM:
                record: dict[str, Any] = {"Id": key.record_id}
                record.update({name: value for name, (value, _) in values.items()})
                record["_expected"] = {name: decode(expected) for name, (_, expected)
                                       in values.items() if expected is not None}
                out.append((key.object, record))
                continue
            upsert = next((r for s, r in out if s == autopilot.CONTACTS
                           and r.get("Email") == key.record_id and "_sdc_deleted_at" not in r),
                          None)
            if upsert is None:
                upsert = {"Email": key.record_id}
                out.append((autopilot.CONTACTS, upsert))
            for name, (value, expected) in values.items():
                target = self.sync.field_map[name]
                if target in autopilot.STANDARD_FIELDS:
                    upsert[target] = value
                else:
                    upsert.setdefault("custom_fields", {})[target] = value
                if expected is not None:  # compare-and-set in target-autopilot
                    upsert.setdefault("_expected", {})[target] = decode(expected)
        return out

    def flush(self) -> None:
        if self._values:
            self.tx._upsert(field_values, ("system", "object", "record_id", "field"),
                            tuple(c for c in self._values[0] if c not in (
                                "system", "object", "record_id", "field")), self._values)
        if self._agreed:
            self.tx._upsert(field_agreed, ("email", "field"),
                            ("value", "changed_at", "source", "updated_at"), self._agreed)
        self._values, self._agreed = [], []

    def summary(self) -> str:
        c = self.counts
        return (f"mapped fields: {c['written']} records written, {c['echoes']} echoes "
                f"confirmed, {c['conflicts']} conflicts decided by the later change, "
                f"{c['read_only']} read-only changes reported")
