"""The fields each object is read with, and how describe types become JSON schema types."""

from __future__ import annotations

from singer_sdk import typing as th

COMMON = ["Id", "IsDeleted", "SystemModstamp", "LastModifiedDate", "OwnerId", "FirstName",
          "LastName", "Phone", "LeadSource"]
FIELDS = {
    "Lead": [*COMMON, "Email", "HasOptedOutOfEmail", "Company", "Status", "Country",
             "IsConverted", "ConvertedContactId", "ConvertedAccountId", "ConvertedDate",
             "EmailBouncedDate", "EmailBouncedReason"],
    "Contact": [*COMMON, "Email", "HasOptedOutOfEmail", "AccountId", "IsPersonAccount",
                "MailingCountry", "EmailBouncedDate", "EmailBouncedReason"],
    "Account": [*COMMON, "Name", "IsPersonAccount", "PersonEmail", "PersonHasOptedOutOfEmail",
                "PersonContactId", "BillingCountry"],
}
# without these the sync cannot work: hidden ones stop the run
REQUIRED = {
    "Lead": ["Id", "IsDeleted", "SystemModstamp", "Email", "HasOptedOutOfEmail"],
    "Contact": ["Id", "IsDeleted", "SystemModstamp", "Email", "HasOptedOutOfEmail"],
    "Account": ["Id", "IsDeleted", "SystemModstamp"],
}
# Person Account fields exist only in orgs with Person Accounts enabled
PERSON_FIELDS = ["PersonEmail", "PersonHasOptedOutOfEmail"]


def json_type(describe_type: str) -> th.JSONTypeHelper:
    if describe_type == "boolean":
        return th.BooleanType()
    if describe_type == "datetime":
        return th.DateTimeType()
    if describe_type == "date":
        return th.DateType()
    if describe_type == "int":
        return th.IntegerType()
    if describe_type in ("double", "currency", "percent"):
        return th.NumberType()
    return th.StringType()
