"""JSON schemas of the streams, as the output contract (docs/contracts.md) names them."""

from __future__ import annotations

from singer_sdk import typing as th

LIST_STATUS = th.ObjectType(
    th.Property("list_id", th.StringType, required=True),
    th.Property("status", th.IntegerType, required=True,
                description="0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced"),
    th.Property("updated_at", th.DateTimeType,
                description="when the status last changed (null when read in bulk)"),
)
FIELD_VALUE = th.ObjectType(
    th.Property("field_id", th.StringType, required=True),
    th.Property("title", th.StringType),
    th.Property("value", th.StringType),
)

CONTACTS = th.PropertiesList(
    th.Property("id", th.StringType, required=True, description="ActiveCampaign contact id"),
    th.Property("email", th.StringType),
    th.Property("first_name", th.StringType),
    th.Property("last_name", th.StringType),
    th.Property("phone", th.StringType),
    th.Property("orgname", th.StringType),
    th.Property("cdate", th.DateTimeType, description="created, UTC"),
    th.Property("udate", th.DateTimeType, description="updated, UTC (the bookmark)"),
    th.Property("bounced_hard", th.IntegerType, description="hard bounces counted"),
    th.Property("bounced_soft", th.IntegerType),
    th.Property("bounced_date", th.StringType),
    th.Property("lists", th.ArrayType(LIST_STATUS), description="every list status"),
    th.Property("tags", th.ArrayType(th.StringType), description="tag names"),
    th.Property("field_values", th.ArrayType(FIELD_VALUE)),
).to_dict()

LISTS = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("name", th.StringType),
    th.Property("stringid", th.StringType),
    th.Property("cdate", th.DateTimeType),
).to_dict()
