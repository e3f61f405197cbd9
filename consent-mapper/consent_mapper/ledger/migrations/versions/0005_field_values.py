"""Two-way mapped fields: per record and field the value observed and written, per person the
agreed value, and the Salesforce fields' types and writability.

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_field_values",
        sa.Column("system", sa.Text, primary_key=True),
        sa.Column("object", sa.Text, primary_key=True),
        sa.Column("record_id", sa.Text, primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("observed", sa.Text, nullable=True),
        sa.Column("observed_at", sa.Text, nullable=True),
        sa.Column("pending", sa.Text, nullable=True),
        sa.Column("pending_at", sa.Text, nullable=True),
        sa.Column("pending_run", sa.Integer, nullable=True),
        sa.Column("noted", sa.Text, nullable=True),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_index("ix_ledger_field_values_email", "ledger_field_values", ["email"])
    op.create_table(
        "ledger_field_agreed",
        sa.Column("email", sa.Text, primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "ledger_field_specs",
        sa.Column("object", sa.Text, primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_field_specs")
    op.drop_table("ledger_field_agreed")
    op.drop_index("ix_ledger_field_values_email", "ledger_field_values")
    op.drop_table("ledger_field_values")
