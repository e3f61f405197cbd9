"""The activity feed's memory: which mail events went to Salesforce as Tasks, by which run.

Revision ID: 0006
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_activities",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("who_id", sa.Text, nullable=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.Text, nullable=False),
    )
    op.create_index("ix_ledger_activities_email", "ledger_activities", ["email"])


def downgrade() -> None:
    op.drop_index("ix_ledger_activities_email", "ledger_activities")
    op.drop_table("ledger_activities")
