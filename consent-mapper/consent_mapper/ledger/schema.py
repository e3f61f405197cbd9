"""The ledger's tables (CONSENT-RULES "Ledger"), as SQLAlchemy Core metadata.

The migrations in ``migrations/versions`` create and change them; this module is what the code
reads and writes through. Booleans that may be unknown are nullable: None means "never seen".
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

people = Table(
    "ledger_people", metadata,
    Column("email", String(320), primary_key=True),
    Column("agreed", Boolean, nullable=True),  # opted out; None until first seen with a state
    Column("opted_out_at", String(40), nullable=True),  # latest deliberate opt-out (ISO-8601)
    Column("profile_hash", String(64), nullable=True),  # last profile sent to the platform
    Column("profile_confirmed", Boolean, nullable=False),  # that profile was read back there
    Column("updated_at", String(40), nullable=False),
)

records = Table(
    "ledger_records", metadata,
    Column("system", String(20), primary_key=True),  # the product the record lives in
    Column("object", String(40), primary_key=True),
    Column("record_id", String(320), primary_key=True),
    Column("role", String(10), nullable=False),  # crm or platform
    Column("email", String(320), nullable=False),
    Column("observed", Boolean, nullable=True),
    Column("observed_at", String(40), nullable=True),  # the source's modstamp of that reading
    Column("pending", Boolean, nullable=True),
    Column("pending_at", String(40), nullable=True),  # when the sync decided that write
    Column("prior_at", String(40), nullable=True),  # an older unconfirmed write of the other value
    Column("pending_run", Integer, nullable=True),
    Column("live", Boolean, nullable=False),
    Column("selected", Boolean, nullable=False),
    Column("writable", Boolean, nullable=False),
    Column("native_id", String(64), nullable=True),  # the platform's own contact id
    Column("platform_state", Text, nullable=True),  # the platform adapter's own notes (JSON)
    Column("updated_at", String(40), nullable=False),
    Index("ix_ledger_records_email", "email"),
    Index("ix_ledger_records_pending", "system", "pending"),
    Index("ix_ledger_records_role", "role", "system", "pending"),
)

runs = Table(
    "ledger_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", String(40), nullable=False),
    Column("source_system", String(20), nullable=False),
    Column("platform", String(20), nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=True),
    Column("summary", Text, nullable=True),  # JSON counts
)

leases = Table(
    "ledger_leases", metadata,
    Column("name", String(80), primary_key=True),  # one per direction and platform
    Column("holder", String(200), nullable=False),  # host and pid, named to a waiting run
    Column("acquired_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
)

audit = Table(
    "ledger_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("at", String(40), nullable=False),
    Column("email", String(320), nullable=False),
    Column("rule", String(10), nullable=False),
    Column("old", Boolean, nullable=True),
    Column("new", Boolean, nullable=True),
    Column("source", String(400), nullable=True),  # "salesforce Lead 00Q..."
    Column("targets", Text, nullable=True),  # records written, "system object id" per line
    Column("detail", Text, nullable=False),
    Index("ix_ledger_audit_email", "email"),
    Index("ix_ledger_audit_run", "run_id"),
)
