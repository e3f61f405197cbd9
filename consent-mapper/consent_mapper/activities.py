"""The activity feed: Autopilot's mail history on synced contacts as completed Salesforce Tasks.

Each mail event (a mail received, opened, clicked, bounced, unsubscribed from) of a contact whose
person has a Salesforce record becomes one Task on that person's primary record (Activity
History), keyed by a stable external key (contact id, event type, mail id) and upserted by it:
sending it again updates the same Task, never a second one.

The ledger remembers which run sent each key, so a run re-sends nothing already written (an idle
run writes nothing). A key counts as written only once a later run's input state shows that the
target wrote its run (run_marks.py). A run that crashed
after the ledger's commit but before the target wrote leaves the tap's bookmark where it was, so
the next run reads the same contacts again and re-sends those keys; a crash after the write and
before the commit re-sends them too, and the upsert makes that harmless.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select

from consent_mapper.adapters import salesforce
from consent_mapper.ledger.schema import activities, records
from consent_mapper.ledger.store import CHUNK, LedgerTransaction, now_iso
from consent_mapper.rules import CRM, Observation
from consent_mapper.scratch import open_scratch

TASK = "Task"
KEY_LIMIT = 255  # a Text(255) External ID field
SUBJECTS = {
    "received": "Email received", "opened": "Email opened", "clicked": "Email link clicked",
    "bounced": "Email bounced (soft)", "hardbounced": "Email bounced (hard)",
    "complained": "Email marked as spam", "unsubscribed": "Unsubscribed from email",
}
# a Contact (a Person Account's is its PersonContactId) is the person's primary record, else a Lead
RANK = {salesforce.CONTACT: 0, salesforce.ACCOUNT: 0, salesforce.LEAD: 1}


def event_key(contact_id: str, kind: str, mail_id: str) -> str:
    key = f"autopilot:{contact_id}:{kind}:{mail_id}"
    if len(key) <= KEY_LIMIT:
        return key
    return f"autopilot:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def task_record(key_field: str, key: str, who_id: str, event: Mapping[str, Any]) -> dict:
    label, at = SUBJECTS[event["type"]], event.get("at")
    record = {
        key_field: key, "WhoId": who_id, "Subject": f"{label}: {event['mail_id']}",
        "Status": "Completed", "Priority": "Normal", "Type": "Email",
        "Description": (f"Autopilot: {label.lower()} (mail {event['mail_id']}) for "
                        f"{event['address']}{f' at {at}' if at else ''}. Written by consentsync "
                        f"(key {key}); a replay updates this Task."),
    }
    if at:
        record["ActivityDate"] = str(at)[:10]  # the tap sends UTC
    return record


def primary_records(tx: LedgerTransaction, emails: list[str]) -> dict[str, str]:
    """The WhoId of each person's primary Salesforce record: the oldest live Contact (a Person
    Account's PersonContactId), else the oldest live Lead; converted Leads never."""
    query = select(records.c.email, records.c.object, records.c.record_id,
                   records.c.native_id).where(
        records.c.email.in_(emails), records.c.role == CRM,
        records.c.system == salesforce.SYSTEM, records.c.object.in_(list(RANK)),
        records.c.live.is_(True), records.c.writable.is_(True))
    best: dict[str, tuple[int, str, str]] = {}
    for row in tx.c.execute(query):
        who = row.native_id if row.object == salesforce.ACCOUNT else row.record_id
        if not who:  # a Person Account read before its PersonContactId was kept
            continue
        choice = (RANK[row.object], row.record_id, who)
        if row.email not in best or choice < best[row.email]:
            best[row.email] = choice
    return {email: choice[2] for email, choice in best.items()}


class ActivityFeed:
    """The mail events one run read (on disk until the input ends) and the Tasks they make."""

    def __init__(self, types: tuple[str, ...], key_field: str) -> None:
        self.types, self.key_field = frozenset(types), key_field
        self.db = open_scratch()
        self.db.execute("CREATE TABLE events (key TEXT PRIMARY KEY, email TEXT NOT NULL, "
                        "event TEXT NOT NULL)")
        self.counts: Counter[str] = Counter()

    def shape(self) -> tuple[str, dict, tuple[str, ...]]:
        text = {"type": "string"}
        properties = {name: text for name in (self.key_field, "WhoId", "Subject", "Status",
                                              "Priority", "Type", "Description")}
        properties["ActivityDate"] = {"type": "string", "format": "date"}
        return TASK, {"type": "object", "properties": properties,
                      "required": [self.key_field, "WhoId"]}, (self.key_field,)

    def read(self, seen: Observation, record: Mapping[str, Any]) -> None:
        """The events of one contact read (a later read of it wins)."""
        contact_id = str(record.get("contact_id") or "")
        if not contact_id:
            return
        rows = [(event_key(contact_id, e["type"], str(e["mail_id"])), seen.email,
                 json.dumps({**e, "address": seen.key.record_id}))
                for e in record.get("mail_events") or ()
                if isinstance(e, Mapping) and e.get("type") in self.types and e.get("mail_id")]
        self.db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?)", rows)

    def plan(self, tx: LedgerTransaction, run_id: int,
             written_run: int | None) -> Iterator[tuple[str, dict]]:
        """One Task per event not yet known written (``written_run``: the newest run known
        written, run_marks.py), remembered as sent by this run."""
        emails = [r[0] for r in self.db.execute("SELECT DISTINCT email FROM events "
                                                "ORDER BY email")]
        for start in range(0, len(emails), CHUNK):
            chunk = emails[start:start + CHUNK]
            whos = primary_records(tx, chunk)
            written = self._written(tx, chunk, written_run)
            sent: list[dict] = []
            marks = ",".join("?" * len(chunk))
            for key, email, raw in self.db.execute(
                    f"SELECT key, email, event FROM events WHERE email IN ({marks}) "  # noqa: S608
                    "ORDER BY key", chunk):
                if key in written:
                    self.counts["activities_already_written"] += 1
                    continue
                who = whos.get(email)
                if who is None:
                    self.counts["activities_without_salesforce_record"] += 1
                    continue
                sent.append({"key": key, "email": email, "who_id": who, "run_id": run_id,
                             "sent_at": now_iso()})
                self.counts["activities_sent"] += 1
                yield TASK, task_record(self.key_field, key, who, json.loads(raw))
            self._remember(tx, sent)

    @staticmethod
    def _written(tx: LedgerTransaction, emails: list[str], written_run: int | None) -> set[str]:
        if written_run is None:
            return set()  # no run is known written: everything read goes (again)
        query = select(activities.c.key).where(activities.c.email.in_(emails),
                                               activities.c.run_id <= written_run)
        return {row.key for row in tx.c.execute(query)}

    @staticmethod
    def _remember(tx: LedgerTransaction, sent: list[dict]) -> None:
        if not sent:
            return
        keys = [row["key"] for row in sent]
        tx.c.execute(activities.delete().where(activities.c.key.in_(keys)))
        tx.c.execute(activities.insert(), sent)

    def close(self) -> None:
        self.db.close()
