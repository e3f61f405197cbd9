"""The ledger's tables (CONSENT-RULES "Ledger"), as SQLAlchemy Core metadata.

The migrations in ``migrations/versions`` create and change them; this module is what the code
reads and writes through. Booleans that may be unknown are nullable: None means "never seen".
Strings are unbounded text (migration 0003 on PostgreSQL; SQLite never bounded them).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)

metadata = MetaData()

people = Table(
    "ledger_people", metadata,
    Column("email", Text, primary_key=True),
    Column("agreed", Boolean, nullable=True),  # opted out; None until first seen with a state
    Column("opted_out_at", Text, nullable=True),  # latest deliberate opt-out (ISO-8601)
    Column("profile_hash", Text, nullable=True),  # last profile sent to the platform
    Column("profile_confirmed", Boolean, nullable=False),  # that profile was read back there
    # every list sent to the contact was in a profile read back since (joined_lists.py)
    Column("lists_confirmed", Boolean, nullable=False),
    # the profile (JSON) held back from a contact whose re-subscribe waits for its first read
    # (R4): sent with the re-subscribe once a read has shown the contact (migration 0008)
    Column("withheld_profile", Text, nullable=True),
    Column("updated_at", Text, nullable=False),
    Index("ix_ledger_people_withheld", "email", sqlite_where=text("withheld_profile IS NOT NULL"),
          postgresql_where=text("withheld_profile IS NOT NULL")),
)

DELETE_UNWRITTEN = "deleted_run IS NOT NULL"

records = Table(
    "ledger_records", metadata,
    Column("system", Text, primary_key=True),  # the product the record lives in
    Column("object", Text, primary_key=True),
    Column("record_id", Text, primary_key=True),
    Column("role", Text, nullable=False),  # crm or platform
    Column("email", Text, nullable=False),
    Column("observed", Boolean, nullable=True),
    Column("observed_at", Text, nullable=True),  # the source's modstamp of that reading
    Column("pending", Boolean, nullable=True),
    Column("pending_at", Text, nullable=True),  # when the sync decided that write
    Column("prior_at", Text, nullable=True),  # an older unconfirmed write of the other value
    Column("pending_run", Integer, nullable=True),
    Column("live", Boolean, nullable=False),
    Column("selected", Boolean, nullable=False),
    Column("writable", Boolean, nullable=False),
    Column("native_id", Text, nullable=True),  # the platform's own contact id
    Column("platform_state", Text, nullable=True),  # the platform adapter's own notes (JSON)
    # a removal waiting for the next read of the platform: the reads finished at the exit (0009)
    Column("exit_read", Integer, nullable=True),
    # a contact the sync deleted: the run that sent it, until known written (0009)
    Column("deleted_run", Integer, nullable=True),
    Column("updated_at", Text, nullable=False),
    Index("ix_ledger_records_email", "email"),
    Index("ix_ledger_records_deleted_run", "system", sqlite_where=text(DELETE_UNWRITTEN),
          postgresql_where=text(DELETE_UNWRITTEN)),
    Index("ix_ledger_records_pending", "system", "pending"),
    Index("ix_ledger_records_role", "role", "system", "pending"),
)

runs = Table(
    "ledger_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", Text, nullable=False),
    Column("source_system", Text, nullable=False),
    Column("platform", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text, nullable=True),
    Column("summary", Text, nullable=True),  # JSON counts
)

leases = Table(
    "ledger_leases", metadata,
    Column("name", Text, primary_key=True),  # one per direction and platform
    Column("holder", Text, nullable=False),  # host and pid, named to a waiting run
    Column("acquired_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
)

audit = Table(
    "ledger_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("at", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("old", Boolean, nullable=True),
    Column("new", Boolean, nullable=True),
    Column("source", Text, nullable=True),  # "salesforce Lead 00Q..."
    Column("targets", Text, nullable=True),  # records written, "system object id" per line
    Column("detail", Text, nullable=False),
    Index("ix_ledger_audit_email", "email"),
    Index("ix_ledger_audit_run", "run_id"),
)

# Companies (Salesforce business Accounts): the company values last sent for each Account, per
# platform (each platform's job reads the Accounts on its own), and which Contact belongs to
# which Account, so that a changed Account reaches Contacts that did not change themselves
accounts = Table(
    "ledger_accounts", metadata,
    Column("platform", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),  # the Salesforce Account Id
    Column("company", Text, nullable=False),  # JSON: the platform's company fields, as sent
    Column("observed_at", Text, nullable=True),  # the Account's SystemModstamp of that reading
    Column("updated_at", Text, nullable=False),
)

account_members = Table(
    "ledger_account_members", metadata,
    Column("contact_id", Text, primary_key=True),  # a Salesforce Contact Id (not a person's)
    Column("account_id", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Index("ix_ledger_account_members_account", "account_id"),
)

# the activity feed (migration 0006): each mail event sent to Salesforce as a Task, by its key.
# A row counts as done only once a later run's input state shows the target wrote that run
# (activities.py); the Task itself is upserted by the key, so a replay never duplicates it.
activities = Table(
    "ledger_activities", metadata,
    Column("key", Text, primary_key=True),  # the Task's external key
    Column("email", Text, nullable=False),
    Column("who_id", Text, nullable=True),  # the Lead or Contact the Task was put on
    Column("run_id", Integer, nullable=False),  # the run that sent it
    Column("sent_at", Text, nullable=False),
    Index("ix_ledger_activities_email", "email"),
)

# Two-way mapped fields (field_map): per record and field, the value last observed there (JSON;
# NULL never read) with the source's modstamp, the value written and not yet read back, and a
# value reported once as not written (a read-only field changed on the platform)
field_values = Table(
    "ledger_field_values", metadata,
    Column("system", Text, primary_key=True),
    Column("object", Text, primary_key=True),
    Column("record_id", Text, primary_key=True),
    Column("field", Text, primary_key=True),  # the Salesforce field of the mapping
    Column("email", Text, nullable=False),
    Column("observed", Text, nullable=True),
    Column("observed_at", Text, nullable=True),
    Column("pending", Text, nullable=True),
    Column("pending_at", Text, nullable=True),
    Column("pending_run", Integer, nullable=True),  # reads of that system when it was sent
    Column("noted", Text, nullable=True),
    Column("updated_at", Text, nullable=False),
    Index("ix_ledger_field_values_email", "email"),
)

# per person and mapped field: the value both systems should hold, and the change that set it
field_agreed = Table(
    "ledger_field_agreed", metadata,
    Column("email", Text, primary_key=True),
    Column("field", Text, primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("changed_at", Text, nullable=False),  # that change's modstamp in its system
    Column("source", Text, nullable=False),  # the system it was made in
    Column("updated_at", Text, nullable=False),
)

# the Salesforce fields of the mapping as the CRM's stream schema described them
field_specs = Table(
    "ledger_field_specs", metadata,
    Column("object", Text, primary_key=True),
    Column("field", Text, primary_key=True),
    Column("kind", Text, nullable=False),  # boolean, integer, number, date, date-time, string
    Column("read_only", Boolean, nullable=False),
    Column("updated_at", Text, nullable=False),
)
