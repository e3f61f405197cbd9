"""Copy a whole ledger to another database: the move from one machine's SQLite file to a team's
PostgreSQL server, with every person's agreed state, pending write and decision kept.

A new, empty ledger under a project that ran before would be stopped as a typo (or, re-read in
full, treat everyone as new); copying keeps what the sync knows. Leases are not copied: they
belong to runs of the old ledger.
"""

from __future__ import annotations

from sqlalchemy import func, select, text

from consent_mapper.ledger.schema import (
    account_members,
    accounts,
    activities,
    audit,
    field_agreed,
    field_specs,
    field_values,
    people,
    records,
    runs,
)
from consent_mapper.ledger.store import Ledger

TABLES = (people, records, runs, audit, accounts, account_members, activities, field_values,
          field_agreed, field_specs)
BATCH = 1000


class TargetNotEmpty(ValueError):
    """The target ledger holds rows already: copying would mix two ledgers."""


def copy_ledger(source_url: str, target_url: str) -> dict[str, int]:
    """Copy every row of ``source_url``'s ledger into the empty ledger at ``target_url``.

    Both are migrated to the newest revision first; the copy is one transaction on the target
    (all or nothing). Returns the rows copied per table.
    """
    source, target = Ledger(source_url), Ledger(target_url)
    copied: dict[str, int] = {}
    try:
        with target.transaction() as tx, source.engine.connect() as reading:
            tx.exclusive()  # no run decides on the target while it fills
            for table in TABLES:
                if tx.c.execute(select(func.count()).select_from(table)).scalar_one():
                    raise TargetNotEmpty(
                        f"the target ledger already has rows in {table.name}: copy into a new, "
                        f"empty database (or schema) only")
            for table in TABLES:
                rows = reading.execution_options(yield_per=BATCH).execute(
                    select(table).order_by(*table.primary_key.columns))
                copied[table.name] = 0
                for part in rows.partitions(BATCH):
                    tx.c.execute(table.insert(), [dict(row._mapping) for row in part])
                    copied[table.name] += len(part)
            if tx.c.dialect.name == "postgresql":
                # ids were copied as they were: the next run and audit event number on from them
                for table in (runs, audit):
                    tx.c.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"coalesce(max(id), 0) + 1, false) FROM {table.name}"))
    finally:
        source.close()
        target.close()
    return copied
