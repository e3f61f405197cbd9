"""Every write of ours to a record carries the consent value still owed there.

A write moves the record's modification time (Autopilot's `updated_at`, Salesforce's
`SystemModstamp`). A profile or mapped-field write to a record whose consent write has not been
read back yet, sent without that value, leaves the old consent under a modstamp newer than our
decision: the next read cannot tell it from a person's change (docs/consent-decisions.md,
"Telling our own write from a person's change"), and an owed re-subscribe was read as an opt-out
(found by the chaos suite). So the owed value rides along; sending it again is idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consent_mapper.adapters import salesforce
from consent_mapper.rules import CRM, PLATFORM, RecordKey, RecordMemory

# the platform adapters whose contact upsert carries consent as one flag
PLATFORM_FLAG = {"autopilot": "unsubscribed"}


def carry_pending(records: list[tuple[str, dict[str, Any]]],
                  memories: Mapping[RecordKey, RecordMemory], platform: str
                  ) -> list[tuple[str, dict[str, Any]]]:
    owed = {key: m.pending for key, m in memories.items() if m.pending is not None}
    if not owed:
        return records
    for stream, record in records:
        if "_sdc_deleted_at" in record or record.get("_create"):
            continue
        if "Id" in record and stream in salesforce.OPT_OUT_FIELD:
            flag = salesforce.OPT_OUT_FIELD[stream]
            key = RecordKey(CRM, salesforce.SYSTEM, stream, str(record["Id"]))
        elif "Email" in record and platform in PLATFORM_FLAG:
            flag = PLATFORM_FLAG[platform]
            key = RecordKey(PLATFORM, platform, "contact", str(record["Email"]))
        else:
            continue
        if flag not in record and key in owed:
            record[flag] = owed[key]
    return records
