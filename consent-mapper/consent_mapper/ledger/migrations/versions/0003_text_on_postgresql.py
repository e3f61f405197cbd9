"""Unbounded text columns on PostgreSQL.

The first ledgers declared VARCHAR(n) columns. SQLite never enforces those lengths, so a ledger
there holds whatever the sources sent; PostgreSQL would refuse the whole run over one long
modstamp, record id or address. On PostgreSQL the columns become TEXT (the same storage, no
bound); SQLite's tables stay as they are (nothing to enforce, and a batch rebuild of every table
for nothing).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = {
    "ledger_people": ("email", "opted_out_at", "profile_hash", "updated_at"),
    "ledger_records": ("system", "object", "record_id", "role", "email", "observed_at",
                       "pending_at", "prior_at", "native_id", "updated_at"),
    "ledger_runs": ("direction", "source_system", "platform", "started_at", "finished_at"),
    "ledger_leases": ("name", "holder", "acquired_at", "expires_at"),
    "ledger_audit": ("at", "email", "rule", "source"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.Text)


def downgrade() -> None:
    pass  # TEXT holds everything VARCHAR(n) did; nothing to undo
