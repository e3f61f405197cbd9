"""Whether every list sent to a person's platform contact was in a profile read back since.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ledger_people", sa.Column("lists_confirmed", sa.Boolean, nullable=False,
                                             server_default=sa.false()))
    # what was known before: the last profile, lists and all, was read back
    op.execute("UPDATE ledger_people SET lists_confirmed = profile_confirmed")


def downgrade() -> None:
    with op.batch_alter_table("ledger_people") as batch:
        batch.drop_column("lists_confirmed")
