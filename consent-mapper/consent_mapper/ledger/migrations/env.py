"""Alembic environment: runs on the connection the ledger hands over (never opens its own)."""

from __future__ import annotations

from alembic import context

from consent_mapper.ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  version_table="ledger_alembic_version", render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
