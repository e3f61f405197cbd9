"""The fields each object is read with, and how describe types become JSON schema types."""

from __future__ import annotations

from singer_sdk import typing as th

SYSTEM = ["Id", "IsDeleted", "SystemModstamp", "LastModifiedDate", "OwnerId"]
PERSON = ["FirstName", "LastName", "Phone", "LeadSource", "Email", "HasOptedOutOfEmail",
          "EmailBouncedDate", "EmailBouncedReason"]
FIELDS = {
    "Lead": [*SYSTEM, *PERSON, "Company", "Status", "Country", "IsConverted",
             "ConvertedContactId", "ConvertedAccountId", "ConvertedDate"],
    "Contact": [*SYSTEM, *PERSON, "AccountId", "IsPersonAccount", "MailingCountry"],
    "Account": [*SYSTEM, "Name", "Phone", "BillingCountry", "IsPersonAccount", "FirstName",
                "LastName", "PersonEmail", "PersonHasOptedOutOfEmail", "PersonContactId",
                "PersonEmailBouncedDate", "PersonEmailBouncedReason"],
}
# only orgs with Person Accounts enabled have these (IsPersonAccount among them)
PERSON_ACCOUNT_FIELDS = ["IsPersonAccount", "FirstName", "LastName", "PersonEmail",
                         "PersonHasOptedOutOfEmail", "PersonContactId", "PersonEmailBouncedDate",
                         "PersonEmailBouncedReason"]


def required(sobject: str, visible: dict[str, str]) -> list[str]:
    """Fields without which the sync cannot work: a hidden one stops the run."""
    needed = ["Id", "IsDeleted", "SystemModstamp"]
    if sobject in ("Lead", "Contact"):
        return [*needed, "Email", "HasOptedOutOfEmail"]
    if "IsPersonAccount" in visible:  # Person Accounts are enabled: their consent is needed
        return [*needed, "PersonEmail", "PersonHasOptedOutOfEmail"]
    return needed


def optional(sobject: str) -> list[str]:
    """Fields whose absence is normal in some orgs and not worth a warning."""
    return PERSON_ACCOUNT_FIELDS if sobject == "Account" else []


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
