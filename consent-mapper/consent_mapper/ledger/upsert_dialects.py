"""The `INSERT ... ON CONFLICT` construct of the ledger's database, imported only when used:
SQLAlchemy's PostgreSQL dialect costs a SQLite run's start-up a tenth of a second."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

UPSERT_DIALECTS = ("sqlite", "postgresql")


def upsert_insert(dialect: str) -> Callable[..., Any] | None:
    """`sqlalchemy.dialects.<dialect>.insert`, or None where the ledger has no upsert."""
    if dialect not in UPSERT_DIALECTS:
        return None
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
