"""Demo data: the ActiveCampaign side of the shared demo people, in an account that looks used.

Three lists, the native Salesforce integration's tags on linked people, two custom fields; most
people are active on one or two lists, some unsubscribed from one list only (still opted in),
the opted-out ones unsubscribed from all their lists, a few hard-bounced.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from ..demo import CONTACT, HISTORY, LEAD, PERSON_ACCOUNT, DemoPerson, changed_at
from ..settings import SandboxSettings
from .account import BOUNCED, SUBSCRIBED, UNSUBSCRIBED
from .store import Store, account_time

LISTS = ("Newsletter", "Product Updates", "Events")
FIELDS = (("Country", "text"), ("Lead Status", "dropdown"))
SF_TAGS = {LEAD: "created-from-salesforce-lead", CONTACT: "created-from-salesforce-contact",
           PERSON_ACCOUNT: "added-to-salesforce-contact"}


def load_demo(settings: SandboxSettings, people: list[DemoPerson]) -> None:
    """Once, into an empty store: a restart keeps what is there."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.activecampaign_db)
    try:
        if store.is_empty():
            with store.transaction():
                _load(store, people)
    finally:
        store.db.close()


def _load(store: Store, people: list[DemoPerson]) -> None:
    now = datetime.now(UTC)
    stamp = account_time(now - HISTORY - timedelta(days=300))
    list_ids = [store.create_list({"name": n, "stringid": n.lower().replace(" ", "-"),
                                   "cdate": stamp, "udate": stamp})["id"] for n in LISTS]
    field_ids = [store.create_field(t, k, t.upper().replace(" ", "_"))["id"] for t, k in FIELDS]
    for person in people:
        if not person.in_autopilot or person.email is None:
            continue
        rng = random.Random(person.index)
        moment = changed_at(person.index, len(people), now)
        doc = store.insert_contact({"email": person.email, "firstName": person.first_name,
                                    "lastName": person.last_name, "orgname": person.company},
                                   moment)
        joined = rng.sample(list_ids, rng.choice((1, 1, 2, 3)))
        for list_id in joined:
            store.set_list_status(doc["id"], list_id, SUBSCRIBED, moment)
        if person.ap_unsubscribed:
            for list_id in joined:
                store.set_list_status(doc["id"], list_id, UNSUBSCRIBED, moment, "demo")
        elif len(joined) > 1 and rng.random() < 0.2:  # left one list, still on another
            store.set_list_status(doc["id"], joined[0], UNSUBSCRIBED, moment, "demo")
        if person.ap_hard_bounced:
            store.save_contact({**doc, "bounced_hard": "1",
                                "bounced_date": moment.date().isoformat()}, moment)
            store.add_bounce(doc["id"], person.email, moment)
            for list_id in joined:
                store.set_list_status(doc["id"], list_id, BOUNCED, moment)
        kinds = [k for k in person.salesforce if k in SF_TAGS]
        for name in [SF_TAGS[k] for k in kinds] + (["customer"] if rng.random() < 0.3 else []):
            store.tag_contact(doc["id"], store.tag_by_name(name) or store.create_tag(name))
        store.set_field_value(doc["id"], field_ids[0], person.country)
        store.set_field_value(doc["id"], field_ids[1], person.lead_status)
