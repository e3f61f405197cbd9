"""Platform-neutral records, modstamps of readings and writes, by-direction run leases.

Every record says which role it plays (crm, platform) beside the product it lives in (`system`),
so a second platform is a value, not a schema. `observed_at`, `pending_at` and `prior_at` let the
rules tell our own older write, read back, from a new change (CONSENT-RULES R2, R6, R7);
`selected` keeps records out of the selection criteria apart from deleted ones (R5, R8);
`platform_state` is what a platform adapter keeps of a contact (ActiveCampaign: the lists the
sync unsubscribed it from, to subscribe it back to exactly those). Runs
record their platform; `ledger_leases` keeps two runs of one direction from deciding at once.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_records") as batch:
        batch.add_column(sa.Column("role", sa.String(10), nullable=True))
        batch.add_column(sa.Column("observed_at", sa.String(40), nullable=True))
        batch.add_column(sa.Column("pending_at", sa.String(40), nullable=True))
        batch.add_column(sa.Column("prior_at", sa.String(40), nullable=True))
        batch.add_column(sa.Column("selected", sa.Boolean, nullable=True))
        batch.add_column(sa.Column("native_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("platform_state", sa.Text, nullable=True))
    op.execute("UPDATE ledger_records SET role = CASE WHEN system = 'salesforce' "
               "THEN 'crm' ELSE 'platform' END")
    # release 0.1 kept one `live` flag for "deleted or out of the selection"; both stay as they
    # were (not live, not selected) until the record is read again
    op.execute("UPDATE ledger_records SET selected = live")
    with op.batch_alter_table("ledger_records") as batch:
        batch.alter_column("role", nullable=False)
        batch.alter_column("selected", nullable=False)
    op.create_index("ix_ledger_records_role", "ledger_records", ["role", "system", "pending"])
    with op.batch_alter_table("ledger_runs") as batch:
        batch.add_column(sa.Column("platform", sa.String(20), nullable=True))
    op.execute("UPDATE ledger_runs SET platform = 'autopilot'")
    with op.batch_alter_table("ledger_runs") as batch:
        batch.alter_column("platform", nullable=False)
    op.create_table(
        "ledger_leases",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_leases")
    with op.batch_alter_table("ledger_runs") as batch:
        batch.drop_column("platform")
    op.drop_index("ix_ledger_records_role", "ledger_records")
    with op.batch_alter_table("ledger_records") as batch:
        for name in ("role", "observed_at", "pending_at", "prior_at", "selected", "native_id",
                     "platform_state"):
            batch.drop_column(name)
