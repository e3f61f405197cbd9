"""The ledger's memory of companies: each Account's company values as last sent, per platform,
and which Contact belongs to which Account. Read and written inside a run's transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, select

from consent_mapper import clock
from consent_mapper.ledger.schema import account_members, accounts, people, records
from consent_mapper.ledger.upsert_dialects import upsert_insert

CHUNK = 500  # ids per IN (...): well under SQLite's bound-parameter limit
CRM_SYSTEM, CONTACT = "salesforce", "Contact"


@dataclass(frozen=True)
class Company:
    """A company's fields on the platform: standard fields and custom ones."""

    fields: dict[str, Any]
    custom: dict[str, Any]
    observed_at: str | None = None  # the Account's modstamp when these values were read

    def as_json(self) -> str:
        return json.dumps({"fields": self.fields, "custom": self.custom}, sort_keys=True,
                          default=str)

    @classmethod
    def from_json(cls, text: str, observed_at: str | None) -> Company:
        data = json.loads(text)
        return cls(data.get("fields") or {}, data.get("custom") or {}, observed_at)


@dataclass(frozen=True)
class Member:
    email: str  # the person of the Contact
    contact_id: str
    account_id: str


class AccountLedger:
    def __init__(self, connection: Connection, platform: str) -> None:
        self.c, self.platform = connection, platform

    def companies(self, account_ids: Iterable[str]) -> dict[str, Company]:
        """The company values last sent for each of ``account_ids`` that has any."""
        found: dict[str, Company] = {}
        for chunk in _chunks(list(dict.fromkeys(account_ids))):
            query = select(accounts).where(accounts.c.platform == self.platform,
                                           accounts.c.account_id.in_(chunk))
            for row in self.c.execute(query):
                found[row.account_id] = Company.from_json(row.company, row.observed_at)
        return found

    def save(self, companies: dict[str, Company]) -> None:
        stamp = clock.now_iso()
        _upsert(self.c, accounts, ("platform", "account_id"), [
            {"platform": self.platform, "account_id": account_id, "company": c.as_json(),
             "observed_at": c.observed_at, "updated_at": stamp}
            for account_id, c in companies.items()])

    def forget(self, account_ids: Iterable[str]) -> None:
        """Deleted, or out of the selection: no company values are sent for it any more."""
        for chunk in _chunks(list(account_ids)):
            self.c.execute(accounts.delete().where(accounts.c.platform == self.platform,
                                                   accounts.c.account_id.in_(chunk)))

    def join(self, memberships: dict[str, str | None]) -> None:
        """Contact id -> its Account (None: no Account, or the Contact was deleted)."""
        stamp = clock.now_iso()
        _upsert(self.c, account_members, ("contact_id",), [
            {"contact_id": contact, "account_id": account, "updated_at": stamp}
            for contact, account in memberships.items() if account])
        for chunk in _chunks([c for c, a in memberships.items() if not a]):
            self.c.execute(account_members.delete().where(
                account_members.c.contact_id.in_(chunk)))

    def members(self, account_ids: Iterable[str], unconfirmed_only: bool = False
                ) -> Iterator[Member]:
        """The people of the live, selected Contacts of ``account_ids``; with
        ``unconfirmed_only``, only those whose last profile was not read back from the platform."""
        link = and_(records.c.system == CRM_SYSTEM, records.c.object == CONTACT,
                    records.c.record_id == account_members.c.contact_id)
        for chunk in _chunks(list(account_ids)):
            query = (select(records.c.email, account_members.c.contact_id,
                            account_members.c.account_id)
                     .join(records, link)
                     .where(account_members.c.account_id.in_(chunk),
                            records.c.live.is_(True), records.c.selected.is_(True)))
            if unconfirmed_only:
                query = query.join(people, people.c.email == records.c.email).where(
                    people.c.profile_confirmed.is_(False))
            for row in self.c.execute(query):
                yield Member(row.email, row.contact_id, row.account_id)


def _upsert(c: Connection, table: Table, keys: tuple[str, ...], rows: list[dict]) -> None:
    if not rows:
        return
    insert = upsert_insert(c.dialect.name)
    if insert is None:  # any other database: delete, then insert (inside the run's transaction)
        for row in rows:
            c.execute(table.delete().where(and_(*(table.c[k] == row[k] for k in keys))))
            c.execute(table.insert().values(**row))
        return
    latest = list({tuple(row[k] for k in keys): row for row in rows}.values())
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys})
    for chunk in _chunks(latest):
        c.execute(statement, chunk)


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
