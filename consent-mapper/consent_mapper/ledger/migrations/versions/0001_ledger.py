"""The first ledger: people, records, runs and the audit trail.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_people",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("agreed", sa.Boolean, nullable=True),
        sa.Column("opted_out_at", sa.String(40), nullable=True),
        sa.Column("profile_hash", sa.String(64), nullable=True),
        sa.Column("profile_confirmed", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "ledger_records",
        sa.Column("system", sa.String(20), primary_key=True),
        sa.Column("object", sa.String(40), primary_key=True),
        sa.Column("record_id", sa.String(320), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("observed", sa.Boolean, nullable=True),
        sa.Column("pending", sa.Boolean, nullable=True),
        sa.Column("pending_run", sa.Integer, nullable=True),
        sa.Column("live", sa.Boolean, nullable=False),
        sa.Column("writable", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_ledger_records_email", "ledger_records", ["email"])
    op.create_index("ix_ledger_records_pending", "ledger_records", ["system", "pending"])
    op.create_table(
        "ledger_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("direction", sa.String(40), nullable=False),
        sa.Column("source_system", sa.String(20), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=True),
        sa.Column("summary", sa.Text, nullable=True),
    )
    op.create_table(
        "ledger_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("rule", sa.String(10), nullable=False),
        sa.Column("old", sa.Boolean, nullable=True),
        sa.Column("new", sa.Boolean, nullable=True),
        sa.Column("source", sa.String(400), nullable=True),
        sa.Column("targets", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_ledger_audit_email", "ledger_audit", ["email"])
    op.create_index("ix_ledger_audit_run", "ledger_audit", ["run_id"])


def downgrade() -> None:
    for table in ("ledger_audit", "ledger_runs", "ledger_records", "ledger_people"):
        op.drop_table(table)
