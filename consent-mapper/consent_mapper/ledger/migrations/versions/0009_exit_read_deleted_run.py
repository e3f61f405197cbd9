"""A removal under on_exit=remove waits for the next read of the platform; a deletion is sent
again until a later run's input STATE shows it written.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNWRITTEN = sa.text("deleted_run IS NOT NULL")


def upgrade() -> None:
    # a removal waiting before this revision waits for a read of the contact only, as it did;
    # a deletion sent before it counts as written, as it did
    op.add_column("ledger_records", sa.Column("exit_read", sa.Integer, nullable=True))
    op.add_column("ledger_records", sa.Column("deleted_run", sa.Integer, nullable=True))
    op.create_index("ix_ledger_records_deleted_run", "ledger_records", ["system"],
                    sqlite_where=UNWRITTEN, postgresql_where=UNWRITTEN)


def downgrade() -> None:
    op.drop_index("ix_ledger_records_deleted_run", "ledger_records")
    with op.batch_alter_table("ledger_records") as batch:
        batch.drop_column("deleted_run")
        batch.drop_column("exit_read")
