"""Salesforce Accounts as the company fields of their contacts on the platform.

Neither platform has a company object to write (Autopilot's REST API v1 has none): a contact's
company is its company fields, the Account's Name as `Company` (ActiveCampaign: `orgname`) plus
the Account fields of `account_field_map`. Not consent: profile data.

- A Contact read in a run gets its Account's company values: from the Account's row when the run
  read it, else the values the ledger kept from the last reading.
- A business Account whose company values changed reaches every live, selected Contact of it that
  the run did not read (an Account's change does not move its Contacts' modstamps, so an
  incremental read does not bring them); the ledger remembers which Contact belongs to which
  Account. An Account read again with unchanged values costs nothing, except for people whose
  last profile was not read back from the platform (a run that crashed after deciding: its
  writes are sent again, as for a person's own records).
- A Person Account is one person: its company half (the mapped Account fields) goes on the
  person's contact, never `Company` (its Name is the person's) and never an address (R9).
- A deleted Account, or one out of the selection, is forgotten: nothing more is sent for it and
  no contact is removed for it (its Contacts follow `on_exit` when they are deleted themselves).

One run's Accounts and Contact memberships wait in a scratch SQLite file (bounded memory).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

from consent_mapper.ledger.accounts import AccountLedger, Company
from consent_mapper.ledger.store import LedgerTransaction
from consent_mapper.profile import Profile
from consent_mapper.run_input import PersonInput
from consent_mapper.scratch import open_scratch
from consent_mapper.timestamps import utc

ACCOUNT, CONTACT = "Account", "Contact"
CHUNK = 500


def company_values(adapter: ModuleType, record: Mapping[str, Any],
                   account_field_map: Mapping[str, str], person_email: str | None = None
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The platform's company fields from one Account row: (standard fields, custom fields).

    With ``person_email`` (a Person Account): no company name and no value holding the address.
    """
    values: dict[str, Any] = {} if person_email else {adapter.COMPANY_FIELD: record.get("Name")}
    for source, target in account_field_map.items():
        values[target] = record.get(source)
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for target, value in values.items():
        if value is None or value == "":
            continue
        if person_email and (target == adapter.COMPANY_FIELD
                             or person_email in str(value).lower()):
            continue  # R9: the person's name is no company, the address no company value
        (fields if target in adapter.STANDARD_FIELDS else custom)[target] = value
    return fields, custom


class Companies:
    def __init__(self, adapter: ModuleType, platform: str,
                 account_field_map: Mapping[str, str]) -> None:
        self.adapter, self.platform = adapter, platform
        self.account_field_map = dict(account_field_map)
        self.counts: Counter[str] = Counter()
        self.db = open_scratch()
        self.db.executescript(
            "CREATE TABLE accounts (id TEXT PRIMARY KEY, usable INTEGER NOT NULL, "
            "observed_at TEXT, company TEXT NOT NULL);"
            "CREATE TABLE contacts (id TEXT PRIMARY KEY, account_id TEXT);"
            "CREATE TABLE refresh (email TEXT NOT NULL, account_id TEXT NOT NULL, "
            "contact_id TEXT NOT NULL);")

    # reading the run's input

    def read(self, stream: str, record: Mapping[str, Any]) -> bool:
        """Note a business Account or a Contact's Account; True: the row is a company only
        (a business Account), with no person to observe."""
        if record.get("IsPersonAccount") or stream not in (ACCOUNT, CONTACT):
            return False
        record_id = str(record.get("Id") or "")
        if not record_id:
            return stream == ACCOUNT
        if stream == CONTACT:
            account = record.get("AccountId") if not record.get("IsDeleted") else None
            self.db.execute("INSERT OR REPLACE INTO contacts VALUES (?, ?)",
                            (record_id, str(account) if account else None))
            return False
        fields, custom = company_values(self.adapter, record, self.account_field_map)
        usable = not record.get("IsDeleted") and record.get("in_selection") is not False
        stamp = utc(str(record.get("SystemModstamp") or "")) or None
        self.db.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
                        (record_id, int(usable), stamp, Company(fields, custom).as_json()))
        self.counts["read"] += 1
        return True

    def person_half(self, record: Mapping[str, Any], email: str, fields: dict[str, Any],
                    custom: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """A Person Account's person fields plus its company half, address stripped (R9)."""
        more, more_custom = company_values(self.adapter, record, self.account_field_map,
                                           person_email=email.lower())
        return {**fields, **more}, {**custom, **more_custom}

    # deciding, inside the run's ledger transaction

    def prepare(self, tx: LedgerTransaction) -> set[str]:
        """Record the run's memberships and company values; the people whose contacts must get
        a changed Account's values although the run did not read them."""
        ledger = AccountLedger(tx.c, self.platform)
        for rows in self._chunks("SELECT id, account_id FROM contacts"):
            ledger.join(dict(rows))
        # a chunk of Accounts at a time, their members included: a first load's every Account
        # is changed, and their ids held for the whole run grew the mapper with the org
        for rows in self._chunks("SELECT id, usable, observed_at, company FROM accounts"):
            known = ledger.companies(r[0] for r in rows)
            new = {}
            reread: list[str] = []
            for account_id, usable, observed_at, company in rows:
                if not usable:
                    continue
                before = known.get(account_id)
                if before is not None and before.as_json() == company:
                    reread.append(account_id)
                    continue
                new[account_id] = Company.from_json(company, observed_at)
            ledger.forget(r[0] for r in rows if not r[1] and r[0] in known)
            ledger.save(new)
            self.counts["changed"] += len(new)
            for members in (ledger.members(new), ledger.members(reread, unconfirmed_only=True)):
                self.db.executemany("INSERT INTO refresh VALUES (?, ?, ?)",
                                    ((m.email, m.account_id, m.contact_id) for m in members))
        # a Contact read in this run gets its (current) Account through its own row
        self.db.execute("DELETE FROM refresh WHERE contact_id IN (SELECT id FROM contacts)")
        # read back per chunk of people
        self.db.execute("CREATE INDEX IF NOT EXISTS refresh_email ON refresh (email)")
        emails = {row[0] for row in self.db.execute("SELECT DISTINCT email FROM refresh")}
        self.counts["people refreshed"] += len(emails)
        return emails

    def fill(self, tx: LedgerTransaction, chunk: list[str],
             inputs: dict[str, PersonInput]) -> None:
        """Add the company values of each person's Accounts to the profile the run sends."""
        wanted: dict[str, list[tuple[str, str]]] = {}  # email -> [(account id, stamp)]
        contact_of: dict[str, tuple[str, str]] = {}  # contact id -> (email, its modstamp)
        for email in chunk:
            for seen in inputs[email].observations:
                if seen.key.object == CONTACT and seen.live and seen.selected:
                    contact_of[seen.key.record_id] = (email, seen.changed_at)
        ids = list(contact_of)
        for start in range(0, len(ids), CHUNK):
            part = ids[start:start + CHUNK]
            marks = ",".join("?" * len(part))
            for contact_id, account_id in self.db.execute(
                    f"SELECT id, account_id FROM contacts WHERE id IN ({marks}) "  # noqa: S608
                    f"AND account_id IS NOT NULL", part):
                email, stamp = contact_of[contact_id]
                wanted.setdefault(email, []).append((account_id, stamp))
        marks = ",".join("?" * len(chunk))
        for email, account_id in self.db.execute(
                f"SELECT DISTINCT email, account_id FROM refresh "  # noqa: S608
                f"WHERE email IN ({marks})", chunk):
            wanted.setdefault(email, []).append((account_id, ""))
        if not wanted:
            return
        companies = AccountLedger(tx.c, self.platform).companies(
            a for pairs in wanted.values() for a, _ in pairs)
        for email, pairs in wanted.items():
            for account_id, stamp in pairs:
                company = companies.get(account_id)
                if company is None:
                    continue  # never read, deleted, or out of the selection
                person = inputs[email]
                if person.profile is None:
                    person.profile = Profile()
                # the later change wins: a Lead's Company newer than the Account's name stays
                person.profile.add(None, company.fields, company.custom,
                                   max(stamp, company.observed_at or ""))

    def summary(self) -> str:
        c = self.counts
        return (f"companies: business Accounts read={c['read']}, changed={c['changed']}, people "
                f"given a changed Account's values={c['people refreshed']}")

    def _chunks(self, query: str) -> Iterator[list[tuple]]:
        cursor = self.db.execute(query)
        while rows := cursor.fetchmany(CHUNK):
            yield rows

    def close(self) -> None:
        self.db.close()
