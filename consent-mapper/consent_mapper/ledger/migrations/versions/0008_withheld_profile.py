"""The profile held back from a contact whose re-subscribe waits for the contact's first read.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

HELD = sa.text("withheld_profile IS NOT NULL")


def upgrade() -> None:
    # nothing was held back before: every profile went out at once
    op.add_column("ledger_people", sa.Column("withheld_profile", sa.Text, nullable=True))
    op.create_index("ix_ledger_people_withheld", "ledger_people", ["email"],
                    sqlite_where=HELD, postgresql_where=HELD)


def downgrade() -> None:
    op.drop_index("ix_ledger_people_withheld", "ledger_people")
    with op.batch_alter_table("ledger_people") as batch:
        batch.drop_column("withheld_profile")
