"""Companies: the company values last sent per Salesforce Account, and its Contacts.

`ledger_accounts` keeps, per platform, the company fields a business Account gave its contacts
(the Account's name as `Company`, and the fields of `account_field_map`) and the Account's
modstamp; `ledger_account_members` says which Contact belongs to which Account. A changed
Account reaches every Contact of it, although those Contacts did not change (their modstamp does
not move, so an incremental read does not bring them).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("platform", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("company", sa.Text, nullable=False),
        sa.Column("observed_at", sa.Text, nullable=True),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "ledger_account_members",
        sa.Column("contact_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_index("ix_ledger_account_members_account", "ledger_account_members",
                    ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_account_members_account", "ledger_account_members")
    op.drop_table("ledger_account_members")
    op.drop_table("ledger_accounts")
