"""The settings of the activity feed: Autopilot's mail history as Salesforce Tasks."""

from __future__ import annotations

import re
from collections.abc import Sequence

from singer_sdk import typing as th

# Autopilot's mail history fields are `mail_<type>`
ACTIVITY_TYPES = ("received", "opened", "clicked", "bounced", "hardbounced", "complained",
                  "unsubscribed")
DEFAULT_ACTIVITY_TYPES = ("received", "opened", "clicked", "bounced", "hardbounced",
                          "unsubscribed")
DEFAULT_KEY_FIELD = "Autopilot_Activity_Key__c"
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

ACTIVITY_PROPERTIES = (
    th.Property("activities", th.BooleanType, default=False,
                description="autopilot_to_salesforce: write the mail history of every synced "
                            "contact (received, opened, clicked, bounced, unsubscribed) as "
                            "completed Tasks on the person's Lead or Contact (Activity "
                            "History), one per event, upserted by activity_key_field."),
    th.Property("activity_types", th.ArrayType(th.StringType),
                default=list(DEFAULT_ACTIVITY_TYPES),
                description="Which mail events become Tasks: any of received, opened, clicked, "
                            "bounced (soft), hardbounced, complained, unsubscribed."),
    th.Property("activity_key_field", th.StringType, default=DEFAULT_KEY_FIELD,
                description="The Task field (Text(255), External ID) that holds each event's "
                            "stable key; Tasks are upserted by it, so a replay never "
                            "duplicates one."),
)


def check_activity_settings(types: Sequence[str], key_field: str,
                            error: type[ValueError]) -> None:
    unknown = [t for t in types if t not in ACTIVITY_TYPES]
    if unknown:
        raise error(f"setting 'activity_types' has {unknown}: use any of {list(ACTIVITY_TYPES)}")
    if not _FIELD_NAME.match(key_field):
        raise error(f"setting 'activity_key_field' is {key_field!r}: name a Task field, e.g. "
                    f"{DEFAULT_KEY_FIELD}")
