"""JSON schemas of the streams, as the output contract (docs/contracts.md) names them."""

from __future__ import annotations

from singer_sdk import typing as th

from .records import STANDARD_FIELDS

CUSTOM_FIELD_VALUE = th.ObjectType(
    th.Property("kind", th.StringType, description="the custom field's name"),
    th.Property("fieldType", th.StringType, description="string, integer, float, boolean, date"),
    th.Property("value", th.CustomType({}), description="the value as Autopilot sent it"),
)

MAIL_EVENT = th.ObjectType(
    th.Property("type", th.StringType, description="received, opened, clicked, bounced (soft), "
                                                   "hardbounced, complained, unsubscribed"),
    th.Property("mail_id", th.StringType, description="the key of the mail_<type> entry"),
    th.Property("at", th.DateTimeType, description="its epoch-ms value, as ISO-8601 UTC"),
)

CONTACTS = th.PropertiesList(
    th.Property("contact_id", th.StringType, required=True, description="person_<UUID>"),
    *(th.Property(name, th.StringType) for name in STANDARD_FIELDS),
    th.Property("owner_name", th.StringType),
    th.Property("unsubscribed", th.BooleanType, description="Opted Out of Email"),
    th.Property("hard_bounced", th.BooleanType, description="mail_hardbounced is not empty"),
    th.Property("hard_bounced_at", th.DateTimeType, description="latest hard bounce"),
    th.Property("lists", th.ArrayType(th.StringType), description="ids of the contact's lists"),
    th.Property("list_titles", th.ArrayType(th.StringType),
                description="titles of those lists (one GET /lists a run)"),
    th.Property("custom_fields", th.ArrayType(CUSTOM_FIELD_VALUE), description="as read"),
    th.Property("mail_events", th.ArrayType(MAIL_EVENT),
                description="the contact's mail history (mail_received, mail_opened, ...), "
                            "one entry per mail id and type, oldest first"),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType, description="ISO-8601 UTC whatever the API sent"),
).to_dict()

LISTS = th.PropertiesList(
    th.Property("list_id", th.StringType, required=True),
    th.Property("title", th.StringType),
).to_dict()

LIST_MEMBERS = th.PropertiesList(
    th.Property("list_id", th.StringType, required=True),
    th.Property("contact_id", th.StringType, required=True),
    th.Property("Email", th.StringType),
).to_dict()

CUSTOM_FIELDS = th.PropertiesList(
    th.Property("name", th.StringType, required=True),
    th.Property("fieldType", th.StringType),
).to_dict()
