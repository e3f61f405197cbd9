"""The sObjects the stand-in knows: their fields as describe reports them, and Id helpers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

PERSON_RECORD_TYPE_ID = "012Sb0000000001AAA"
BUSINESS_RECORD_TYPE_ID = "012Sb0000000002AAA"
INTEGRATION_USER_ID = "005Sb0000000001AAA"


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str  # describe type: id, string, email, boolean, datetime, date, reference, picklist...
    label: str
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    calculated: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    custom: bool = False
    length: int = 0
    external_id: bool = False  # an upsert key (External ID in Setup)
    digits: int = 0  # int fields: how many digits
    precision: int = 0  # number fields: digits in all, `scale` of them after the point
    scale: int = 0

    @property
    def sql_type(self) -> str:
        if self.type == "boolean":
            return "INTEGER NOT NULL DEFAULT 0"
        if self.type in ("double", "currency", "percent"):
            return "REAL"
        if self.type == "int":
            return "INTEGER"
        return "TEXT"

    @property
    def is_text(self) -> bool:
        return self.type in ("string", "email", "picklist", "phone", "textarea", "url",
                             "combobox")

    @property
    def is_id(self) -> bool:
        return self.type in ("id", "reference")

    @property
    def id_lookup(self) -> bool:
        """Fields upsert and retrieve-by-field may key on, as describe's ``idLookup`` says."""
        return self.name in ("Id", "Email") or self.type == "id" or self.external_id

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "length": self.length,
            "digits": self.digits,
            "precision": self.precision,
            "scale": self.scale,
            "custom": self.custom,
            "calculated": self.calculated,
            "createable": self.createable,
            "updateable": self.updateable,
            "nillable": self.nillable,
            "filterable": True,
            "sortable": self.type != "textarea",
            "idLookup": self.id_lookup,
            "externalId": self.external_id,
            "defaultedOnCreate": self.type == "boolean" or self.name in SYSTEM_FIELDS,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "picklistValues": [],
        }


SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean",
              "datetime": "xsd:dateTime", "date": "xsd:date", "double": "xsd:double",
              "int": "xsd:int"}
SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")


def _system() -> list[FieldDef]:
    ro = {"createable": False, "updateable": False}
    return [
        FieldDef("Id", "id", "Record ID", nillable=False, length=18, **ro),
        FieldDef("IsDeleted", "boolean", "Deleted", nillable=False, **ro),
        FieldDef("CreatedDate", "datetime", "Created Date", nillable=False, **ro),
        FieldDef("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, **ro),
        FieldDef("SystemModstamp", "datetime", "System Modstamp", nillable=False, **ro),
        FieldDef("OwnerId", "reference", "Owner ID", nillable=False, reference_to=("User",),
                 relationship_name="Owner", length=18),
    ]


def _person_name() -> list[FieldDef]:
    return [
        FieldDef("FirstName", "string", "First Name", length=40),
        FieldDef("LastName", "string", "Last Name", length=80),
        FieldDef("Name", "string", "Full Name", createable=False, updateable=False, length=121),
    ]


def _email_fields(prefix: str = "") -> list[FieldDef]:
    return [
        FieldDef(f"{prefix}Email", "email", "Email", length=80),
        FieldDef(f"{prefix}HasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False),
    ]


def _bounce() -> list[FieldDef]:
    return [
        FieldDef("EmailBouncedDate", "datetime", "Email Bounced Date"),
        FieldDef("EmailBouncedReason", "string", "Email Bounced Reason", length=255),
    ]


def _ref(name: str, label: str, target: str, relationship: str, **kw: bool) -> FieldDef:
    return FieldDef(name, "reference", label, reference_to=(target,),
                    relationship_name=relationship, length=18, **kw)


RO = {"createable": False, "updateable": False}


@dataclass(frozen=True)
class ObjectDef:
    name: str
    label: str
    key_prefix: str
    fields: tuple[FieldDef, ...]
    required: tuple[str, ...] = ()
    defaults: dict[str, object] = field(default_factory=dict)

    def by_lower(self) -> dict[str, FieldDef]:
        return {f.name.lower(): f for f in self.fields}

    def with_fields(self, extra: list[FieldDef]) -> ObjectDef:
        return replace(self, fields=self.fields + tuple(extra))


OBJECTS: dict[str, ObjectDef] = {
    "Lead": ObjectDef(
        "Lead", "Lead", "00Q",
        tuple(_system() + _person_name() + _email_fields() + _bounce() + [
            FieldDef("Company", "string", "Company", length=255),
            FieldDef("Status", "picklist", "Lead Status", nillable=False, length=255),
            FieldDef("Country", "string", "Country", length=80),
            FieldDef("Phone", "phone", "Phone", length=40),
            FieldDef("LeadSource", "picklist", "Lead Source", length=255),
            FieldDef("IsConverted", "boolean", "Converted", nillable=False, **RO),
            _ref("ConvertedContactId", "Converted Contact ID", "Contact", "ConvertedContact", **RO),
            _ref("ConvertedAccountId", "Converted Account ID", "Account", "ConvertedAccount", **RO),
            FieldDef("ConvertedDate", "date", "Converted Date", **RO),
            # an integration's own key, so upsert by external id has a field to key on
            FieldDef("External_Id__c", "string", "External Id", custom=True, length=255,
                     external_id=True),
        ]),
        required=("LastName", "Company"),
        defaults={"Status": "Open - Not Contacted"},
    ),
    "Contact": ObjectDef(
        "Contact", "Contact", "003",
        tuple(_system() + _person_name() + _email_fields() + _bounce() + [
            _ref("AccountId", "Account ID", "Account", "Account"),
            FieldDef("IsPersonAccount", "boolean", "Is Person Account", nillable=False, **RO),
            FieldDef("Phone", "phone", "Business Phone", length=40),
            FieldDef("LeadSource", "picklist", "Lead Source", length=255),
            FieldDef("MailingCountry", "string", "Mailing Country", length=80),
        ]),
        required=("LastName",),
    ),
    "Account": ObjectDef(
        "Account", "Account", "001",
        tuple(_system() + [
            FieldDef("Name", "string", "Account Name", length=255),
            FieldDef("FirstName", "string", "First Name", length=40),
            FieldDef("LastName", "string", "Last Name", length=80),
            _ref("RecordTypeId", "Record Type ID", "RecordType", "RecordType"),
            FieldDef("IsPersonAccount", "boolean", "Is Person Account", nillable=False, **RO),
            FieldDef("PersonEmail", "email", "Email", length=80),
            FieldDef("PersonHasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False),
            _ref("PersonContactId", "Person Contact ID", "Contact", "PersonContact", **RO),
            FieldDef("PersonEmailBouncedDate", "datetime", "Email Bounced Date"),
            FieldDef("PersonEmailBouncedReason", "string", "Email Bounced Reason", length=255),
            FieldDef("BillingCountry", "string", "Billing Country", length=80),
            FieldDef("Phone", "phone", "Account Phone", length=40),
            # the company fields a sync maps (Salesforce's standard Account fields)
            FieldDef("Type", "picklist", "Account Type", length=255),
            FieldDef("Industry", "picklist", "Industry", length=255),
            FieldDef("Website", "url", "Website", length=255),
            FieldDef("NumberOfEmployees", "int", "Employees", digits=8),
            FieldDef("AnnualRevenue", "currency", "Annual Revenue", precision=18),
            FieldDef("BillingStreet", "textarea", "Billing Street", length=255),
            FieldDef("BillingCity", "string", "Billing City", length=40),
            FieldDef("BillingState", "string", "Billing State/Province", length=80),
            FieldDef("BillingPostalCode", "string", "Billing Zip/Postal Code", length=20),
            FieldDef("Description", "textarea", "Account Description", length=32000),
        ]),
    ),
    "User": ObjectDef(
        "User", "User", "005",
        (FieldDef("Id", "id", "User ID", nillable=False, length=18, **RO),
         FieldDef("Name", "string", "Full Name", **RO),
         FieldDef("Username", "string", "Username", **RO),
         FieldDef("Email", "email", "Email", **RO),
         FieldDef("IsActive", "boolean", "Active", **RO),
         FieldDef("SystemModstamp", "datetime", "System Modstamp", nillable=False, **RO)),
    ),
}
WRITABLE_OBJECTS = ("Lead", "Contact", "Account")
PREFIXES = {o.key_prefix: o.name for o in OBJECTS.values()}

# person fields of an Account and the field of its mirrored Contact they write through to
PERSON_MIRROR = {
    "FirstName": "FirstName", "LastName": "LastName", "PersonEmail": "Email",
    "PersonHasOptedOutOfEmail": "HasOptedOutOfEmail", "Phone": "Phone",
    "PersonEmailBouncedDate": "EmailBouncedDate", "PersonEmailBouncedReason": "EmailBouncedReason",
    "BillingCountry": "MailingCountry", "OwnerId": "OwnerId",
}
PERSON_ONLY_FIELDS = ("FirstName", "LastName", "PersonEmail", "PersonHasOptedOutOfEmail",
                      "PersonEmailBouncedDate", "PersonEmailBouncedReason")

CUSTOM_FIELD_TYPES = {
    "string": "string", "text": "string", "email": "email", "boolean": "boolean",
    "checkbox": "boolean", "datetime": "datetime", "date": "date", "double": "double",
    "number": "double", "picklist": "picklist", "phone": "phone", "textarea": "textarea",
}

# --- Ids -----------------------------------------------------------------------------------

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id_suffix(id15: str) -> str:
    """The three characters that make a 15-character Id case-insensitively unique."""
    out = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out += _SUFFIX[bits]
    return out


def make_id(prefix: str, number: int) -> str:
    digits = ""
    for _ in range(10):
        number, rem = divmod(number, 62)
        digits = _B62[rem] + digits
    id15 = f"{prefix}Sb{digits}"
    return id15 + id_suffix(id15)


def to_18(value: str) -> str | None:
    """An 18-character Id from a 15- or 18-character one; None when it is no Id."""
    if len(value) == 18 and value.isalnum():
        return value[:15] + id_suffix(value[:15])
    if len(value) == 15 and value.isalnum():
        return value + id_suffix(value)
    return None


# --- datetimes -----------------------------------------------------------------------------

def format_datetime(moment: datetime) -> str:
    """Salesforce's datetime format, always UTC: ``2024-01-01T00:00:00.000+0000``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def now_stamp() -> str:
    return format_datetime(datetime.now(UTC))


def parse_datetime(text: str) -> datetime:
    """ISO 8601 with Z, +hh:mm or +hhmm; a bare date means midnight UTC."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":" and "T" in text:
        text = text[:-2] + ":" + text[-2:]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


# --- Task (Activity History) ---------------------------------------------------------------
# A completed Task on a Lead or Contact (WhoId) shows in its Activity History. TaskSubtype is
# createable but not updateable, as in a real org: an upsert that may update cannot carry it.
OBJECTS["Task"] = ObjectDef(
    "Task", "Task", "00T",
    tuple(_system() + [
        FieldDef("WhoId", "reference", "Name ID", reference_to=("Contact", "Lead"),
                 relationship_name="Who", length=18),
        FieldDef("WhatId", "reference", "Related To ID", reference_to=("Account",),
                 relationship_name="What", length=18),
        FieldDef("Subject", "combobox", "Subject", length=255),
        FieldDef("Status", "picklist", "Status", nillable=False, length=255),
        FieldDef("Priority", "picklist", "Priority", nillable=False, length=255),
        FieldDef("Type", "picklist", "Type", length=255),
        FieldDef("TaskSubtype", "picklist", "Task Subtype", updateable=False, length=255),
        FieldDef("ActivityDate", "date", "Due Date Only"),
        FieldDef("Description", "textarea", "Description", length=32000),
        FieldDef("IsClosed", "boolean", "Closed", nillable=False, **RO),
        # the key an integration upserts its Tasks by (a custom Activity field in Setup)
        FieldDef("Autopilot_Activity_Key__c", "string", "Autopilot Activity Key", custom=True,
                 length=255, external_id=True),
    ]),
    defaults={"Status": "Not Started", "Priority": "Normal"},
)
WRITABLE_OBJECTS = (*WRITABLE_OBJECTS, "Task")
PREFIXES = {o.key_prefix: o.name for o in OBJECTS.values()}
CLOSED_TASK_STATUSES = ("Completed",)
