"""Demo people as Salesforce records: Leads, Contacts, duplicates, conversions, Person Accounts."""

from __future__ import annotations

from datetime import UTC, datetime

from ..demo import CONTACT, CONVERTED_LEAD, LEAD, PERSON_ACCOUNT, DemoPerson, changed_at
from ..settings import SandboxSettings
from .bulk_load import insert_rows
from .schema import format_datetime, make_id
from .store import Store

BATCH = 5000


def load_demo(settings: SandboxSettings, people: list[DemoPerson]) -> None:
    """Fill an empty store; a store that already holds records is left alone."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.salesforce_db)
    try:
        for obj in ("Lead", "Contact", "Account"):
            if store.db.execute(f'SELECT 1 FROM "{obj}" LIMIT 1').fetchone():
                return
        _load(store, people)
    finally:
        store.db.close()


def _load(store: Store, people: list[DemoPerson]) -> None:
    now = datetime.now(UTC)
    rows: dict[str, list[dict]] = {"Lead": [], "Contact": [], "Account": []}
    for person in people:
        # spread the history over the last month, as an org's data would be
        stamp = format_datetime(changed_at(person.index, len(people), now))
        base = {"FirstName": person.first_name, "LastName": person.last_name,
                "CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp}
        for n, kind in enumerate(person.salesforce):
            email = person.email_variant(n)
            deleted = person.sf_deleted and n == 0
            common = {**base, "IsDeleted": deleted}
            if kind == LEAD:
                rows["Lead"].append({**common, "Email": email, "Company": person.company,
                                     "HasOptedOutOfEmail": person.sf_opted_out,
                                     "Status": person.lead_status, "Country": person.country})
            elif kind == CONTACT:
                rows["Contact"].append({**common, "Email": email,
                                        "HasOptedOutOfEmail": person.sf_opted_out,
                                        "MailingCountry": person.country})
            elif kind == CONVERTED_LEAD:
                number = store.next_numbers(2)
                contact_id = make_id("003", number[0])
                account_id = make_id("001", number[1])
                rows["Account"].append({**base, "Id": account_id, "Name": person.company,
                                        "BillingCountry": person.country})
                rows["Contact"].append({**base, "Id": contact_id, "Email": email,
                                        "AccountId": account_id,
                                        "HasOptedOutOfEmail": person.sf_opted_out,
                                        "MailingCountry": person.country})
                rows["Lead"].append({**common, "Email": email, "Company": person.company,
                                     "HasOptedOutOfEmail": person.sf_opted_out,
                                     "Status": "Closed - Converted", "Country": person.country,
                                     "IsConverted": True, "ConvertedContactId": contact_id,
                                     "ConvertedAccountId": account_id,
                                     "ConvertedDate": stamp[:10]})
            elif kind == PERSON_ACCOUNT:
                rows["Account"].append({**common, "PersonEmail": email,
                                        "PersonHasOptedOutOfEmail": person.sf_opted_out,
                                        "BillingCountry": person.country})
    for obj, records in rows.items():
        for i in range(0, len(records), BATCH):
            insert_rows(store, obj, records[i:i + BATCH], format_datetime(datetime.now(UTC)))
