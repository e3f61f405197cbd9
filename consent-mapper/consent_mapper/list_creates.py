"""Platform contacts in the "Salesforce Leads" / "Salesforce Contacts" lists become CRM records.

Autopilot's own sync creates a Lead (or a Contact) for a contact added to one of those lists when
Salesforce has no record with its address: that is how people made in Autopilot reach Salesforce.
Here, in a platform-to-CRM run, a person the ledger knows no CRM record of (none live, deleted,
outside the selection or converted: deleting a record in Salesforce is deliberate, it is not
re-created) and whose contact the sync never sent a profile to, in one of the lists, gets one
create record for target-salesforce, marked `_create: true`: the target inserts it only when no
Lead or Contact with the address exists (records the CRM tap never read, or the one a crashed
run created already). It is born with the person's agreed consent, so reading it back later is
no change (R4, R6). Profile data: the rules of consent are untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from consent_mapper.adapters.salesforce import CONTACT, LEAD
from consent_mapper.profile import Profile
from consent_mapper.rules import (
    BY_EMAIL,
    CRM,
    AuditEvent,
    Decision,
    Observation,
    RecordKey,
    Skip,
)
from consent_mapper.run_input import ProfilePart

# Autopilot's contact fields -> the new record's fields (the reverse of the CRM-to-platform map)
FIELDS: Mapping[str, Mapping[str, str]] = {
    LEAD: {"FirstName": "FirstName", "LastName": "LastName", "Company": "Company",
           "Phone": "Phone", "LeadSource": "LeadSource", "MailingCountry": "Country"},
    CONTACT: {"FirstName": "FirstName", "LastName": "LastName", "Phone": "Phone",
              "LeadSource": "LeadSource", "MailingCountry": "MailingCountry"},
}
DEFAULT_COMPANY_PLACEHOLDER = "[not provided]"
CREATE_FLAG = "_create"


@dataclass(frozen=True)
class CreatePolicy:
    """The settings of list creates (the mapper's `create_*` and list settings)."""

    lead_list: str
    contact_list: str
    enabled: bool = True
    owner_id: str | None = None
    company_placeholder: str = DEFAULT_COMPANY_PLACEHOLDER

    def sobject_for(self, titles: list[str]) -> str | None:
        """A contact in both lists becomes a Lead: Salesforce's way in for people not known
        yet (sales converts a Lead into a Contact, never back)."""
        if self.lead_list in titles:
            return LEAD
        if self.contact_list in titles:
            return CONTACT
        return None


def request(record: Mapping[str, Any], seen: Observation | Skip | None,
            policy: CreatePolicy) -> ProfilePart | None:
    """What a platform contact asks of the CRM: a Lead or a Contact, with its fields."""
    if not policy.enabled or not isinstance(seen, Observation):
        return None
    # a list is named by its title, or by its id (`contactlist_...`)
    sobject = policy.sobject_for([str(t) for t in (*(record.get("list_titles") or ()),
                                                   *(record.get("lists") or ()))])
    if sobject is None:
        return None
    fields = {target: record[source] for source, target in FIELDS[sobject].items()
              if isinstance(record.get(source), str) and record[source].strip()}
    return ProfilePart(sobject, fields, {}, str(record.get("Email") or "").strip())


def last_name_placeholder(email: str) -> str:
    """Salesforce requires a LastName: the address's local part stands in (it is what a list
    view can show of the person)."""
    return email.split("@", 1)[0] or email


def create_record(decision: Decision, sobject: str, fields: Mapping[str, Any], spelling: str,
                  policy: CreatePolicy, source: RecordKey | None = None
                  ) -> tuple[str, dict[str, Any]] | None:
    """The create for a person without CRM record, or None when one is known."""
    memory = decision.memory
    # a profile the sync sent: the contact came from a CRM record (whose address was edited
    # since, say), and the sync's own list membership asks for nothing
    if memory.agreed is None or memory.profile_hash is not None or any(
            k.role == CRM and k.object != BY_EMAIL for k in memory.records):
        return None
    email = spelling or memory.email
    record: dict[str, Any] = {**fields, "Email": email, "HasOptedOutOfEmail": memory.agreed,
                              CREATE_FLAG: True}
    if not str(record.get("LastName") or "").strip():
        record["LastName"] = last_name_placeholder(email)
    if sobject == LEAD and not str(record.get("Company") or "").strip():
        record["Company"] = policy.company_placeholder  # required on a Lead
    if policy.owner_id:
        record["OwnerId"] = policy.owner_id
    decision.events.append(AuditEvent(
        "R4", memory.agreed, memory.agreed, source,
        f"in the list {policy.lead_list if sobject == LEAD else policy.contact_list!r} and no "
        f"Salesforce record has the address: a {sobject} is created "
        f"{'opted out' if memory.agreed else 'opted in'}, born with the agreed state "
        f"(target-salesforce creates none when a Lead or Contact has the address)"))
    return sobject, record


def creates_for(decision: Decision, profile: Profile | None, spelling: str | None,
                policy: CreatePolicy | None, source: RecordKey | None
                ) -> list[tuple[str, dict[str, Any]]]:
    """The run's create for one person, from the lists its platform contacts are in."""
    if policy is None or profile is None or not profile.lists:
        return []
    sobject = LEAD if LEAD in profile.lists else CONTACT
    made = create_record(decision, sobject, profile.fields or {}, spelling or "", policy,
                         source)
    return [made] if made is not None else []


def without_placeholders(stream: str, record: Mapping[str, Any], fields: dict[str, Any],
                         policy: CreatePolicy) -> dict[str, Any]:
    """A CRM record's fields for the platform, minus the stand-ins a create put there: they
    would overwrite the contact's empty Company and LastName with made-up values."""
    if stream not in FIELDS or not fields:
        return fields
    out = dict(fields)
    if out.get("Company") == policy.company_placeholder:
        out.pop("Company")
    email = str(record.get("Email") or "").strip()
    if email and out.get("LastName") == last_name_placeholder(email):
        out.pop("LastName")
    return out


CREATE_PROPERTIES: dict[str, Any] = {
    "FirstName": {"type": ["string", "null"]}, "LastName": {"type": ["string", "null"]},
    "Company": {"type": ["string", "null"]}, "Phone": {"type": ["string", "null"]},
    "LeadSource": {"type": ["string", "null"]}, "Country": {"type": ["string", "null"]},
    "MailingCountry": {"type": ["string", "null"]}, "OwnerId": {"type": ["string", "null"]},
    CREATE_FLAG: {"type": ["boolean", "null"]},
}


def with_create_fields(shapes: list[tuple[str, dict, tuple[str, ...]]]
                       ) -> list[tuple[str, dict, tuple[str, ...]]]:
    """The CRM output streams, Lead and Contact able to carry a create's fields too."""
    out = []
    for stream, schema, keys in shapes:
        if stream in FIELDS:
            properties = {**{k: v for k, v in CREATE_PROPERTIES.items()
                             if k in (*FIELDS[stream].values(), "OwnerId", CREATE_FLAG)},
                          **schema["properties"]}
            schema = {**schema, "properties": properties}
        out.append((stream, schema, keys))
    return out
