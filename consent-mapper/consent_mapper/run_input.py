"""What one run read from its source, kept on disk until the input ends (bounded memory).

A run of a million people cannot hold every observation in memory: records are appended to a
temporary SQLite file in batches and read back sorted by person, one chunk at a time, when the
decisions are made. Each source record is reduced once, to an :class:`Observation` plus its
contribution to the person's profile.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from consent_mapper.adapters.salesforce import Conversion
from consent_mapper.profile import Profile
from consent_mapper.rules import Observation, RecordKey
from consent_mapper.scratch import open_scratch

BATCH = 5_000  # rows buffered before they are appended to the file


@dataclass(frozen=True, slots=True)
class ProfilePart:
    """One live CRM record's contribution to its person's platform profile."""

    list_name: str | None
    fields: dict[str, Any]
    custom_fields: dict[str, Any]
    spelling: str  # the address as the CRM spells it, for a contact created now


@dataclass
class PersonInput:
    observations: list[Observation] = field(default_factory=list)
    profile: Profile | None = None
    spelling: str | None = None


class RunInput:
    def __init__(self) -> None:
        self.db = open_scratch()
        self.db.execute("CREATE TABLE seen (email TEXT NOT NULL, object TEXT NOT NULL, "
                        "record_id TEXT NOT NULL, observation BLOB NOT NULL, part BLOB)")
        self.db.execute("CREATE TABLE conversions (lead BLOB NOT NULL, contact BLOB NOT NULL, "
                        "email TEXT)")
        self._seen: list[tuple] = []
        self._conversions: list[tuple] = []
        self.adopted: dict[str, list[RecordKey]] = {}  # a converted Lead's unread Contact
        self._indexed = False

    def observe(self, seen: Observation, part: ProfilePart | None = None) -> None:
        self._seen.append((seen.email, seen.key.object, seen.key.record_id,
                           _dump(_plain(seen)),
                           _dump(_part_values(part)) if part is not None else None))
        if len(self._seen) >= BATCH:
            self._flush()

    def convert(self, conversion: Conversion) -> None:
        self._conversions.append((_dump(_plain(conversion.lead)),
                                  _dump(_key_values(conversion.contact)), conversion.email))
        if len(self._conversions) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._seen:
            self.db.executemany("INSERT INTO seen VALUES (?, ?, ?, ?, ?)", self._seen)
        if self._conversions:
            self.db.executemany("INSERT INTO conversions VALUES (?, ?, ?)", self._conversions)
        self._seen, self._conversions = [], []

    def _ready(self) -> None:
        self._flush()
        if not self._indexed:
            self.db.execute("CREATE INDEX seen_email ON seen (email)")
            self.db.execute("CREATE INDEX seen_record ON seen (object, record_id)")
            self._indexed = True

    def conversions(self) -> Iterator[Conversion]:
        """The run's converted Leads, read a page at a time: all of them at once (a list of a
        first load's every conversion) was most of the mapper's growth with the org. The
        caller may observe while it iterates: each page is read whole first."""
        self._ready()
        after = 0
        while rows := self.db.execute("SELECT rowid, lead, contact, email FROM conversions "
                                      "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                      (after, BATCH)).fetchall():
            for _, lead, contact, email in rows:
                yield Conversion(_observation(pickle.loads(lead)),
                                 RecordKey(*pickle.loads(contact)), email)
            after = rows[-1][0]

    def owner_of(self, key: RecordKey) -> str | None:
        """The person this run read ``key`` under, if it read it."""
        self._ready()
        row = self.db.execute("SELECT email FROM seen WHERE object = ? AND record_id = ? "
                              "LIMIT 1", (key.object, key.record_id)).fetchone()
        return row[0] if row else None

    def emails(self) -> set[str]:
        self._ready()
        return {row[0] for row in self.db.execute("SELECT DISTINCT email FROM seen")}

    def people_in_order(self, also: Iterable[str], size: int) -> Iterator[list[str]]:
        """Every person read, and those of ``also``, sorted, ``size`` at a time: the addresses
        of a million people are kept on disk, not in a set (SQLite's byte order of UTF-8 is
        Python's order of str)."""
        self._ready()
        self.db.execute("CREATE TABLE IF NOT EXISTS people (email TEXT PRIMARY KEY) "
                        "WITHOUT ROWID")
        self.db.execute("INSERT OR IGNORE INTO people SELECT email FROM seen")
        self.db.executemany("INSERT OR IGNORE INTO people VALUES (?)", ((e,) for e in also))
        after: str | None = None
        while True:
            rows = self.db.execute("SELECT email FROM people WHERE ?1 IS NULL OR email > ?1 "
                                   "ORDER BY email LIMIT ?2", (after, size)).fetchall()
            if not rows:
                return
            chunk = [row[0] for row in rows]
            yield chunk
            after = chunk[-1]

    def people(self, emails: list[str]) -> dict[str, PersonInput]:
        """The observations and folded profile of each of ``emails`` (one chunk)."""
        self._ready()
        found = {email: PersonInput() for email in emails}
        marks = ",".join("?" * len(emails))
        rows = self.db.execute(f"SELECT email, observation, part FROM seen "  # noqa: S608
                               f"WHERE email IN ({marks}) ORDER BY rowid", emails)
        for email, observation, part in rows:
            person = found[email]
            seen = _observation(pickle.loads(observation))
            person.observations.append(seen)
            if not seen.writable and seen.key.object == "Lead" and person.profile is not None:
                person.profile.converted = True  # a converted Lead counts for this person
            if part is None:
                continue
            contribution = ProfilePart(*pickle.loads(part))
            if person.profile is None:
                person.profile = Profile()
            if seen.live and seen.selected:
                person.profile.add(contribution.list_name, contribution.fields,
                                   contribution.custom_fields, seen.changed_at,
                                   seen.key.object)
                person.spelling = person.spelling or contribution.spelling
            else:
                person.profile.exit(contribution.list_name)
        return found

    def close(self) -> None:
        self.db.close()


# Rows live for one run in its own scratch file (written and read by this process only), so each
# is its fields' values in declaration order, pickled: `dataclasses.asdict` (a deep copy of every
# value) was a tenth of a first load's mapper CPU, and JSON costs twice what pickle does
def _dump(values: list[Any]) -> bytes:
    return pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)


_OBSERVATION_FIELDS = tuple(f.name for f in fields(Observation))[1:]  # after `key`
_KEY_FIELDS = tuple(f.name for f in fields(RecordKey))
_PART_FIELDS = tuple(f.name for f in fields(ProfilePart))


def _key_values(key: RecordKey) -> list[Any]:
    return [getattr(key, name) for name in _KEY_FIELDS]


def _plain(seen: Observation) -> list[Any]:
    return [_key_values(seen.key), *(getattr(seen, name) for name in _OBSERVATION_FIELDS)]


def _part_values(part: ProfilePart) -> list[Any]:
    return [getattr(part, name) for name in _PART_FIELDS]


def _observation(values: list[Any]) -> Observation:
    return Observation(RecordKey(*values[0]), *values[1:])
