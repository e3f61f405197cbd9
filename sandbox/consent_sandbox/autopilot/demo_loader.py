"""Demo contacts: the Autopilot side of the shared demo people."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from ..demo import DemoPerson, changed_at
from ..settings import SandboxSettings
from .store import Store, iso, new_contact_id


def load_demo(settings: SandboxSettings, people: list[DemoPerson]) -> None:
    """One contact per person in Autopilot, once: a restart keeps what is there."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.autopilot_db)
    try:
        if store.is_empty():
            store.bulk_load(_contacts(people))
    finally:
        store.db.close()


def _contacts(people: list[DemoPerson]) -> Iterator[dict]:
    now = datetime.now(UTC)
    for person in people:
        if not person.in_autopilot or person.email is None:
            continue
        # spread the history over past weeks, as the Salesforce side does
        moment = changed_at(person.index, len(people), now)
        stamp = iso(moment)
        doc = {"contact_id": new_contact_id(), "Email": person.email,
               "FirstName": person.first_name, "LastName": person.last_name,
               "Company": person.company, "unsubscribed": person.ap_unsubscribed,
               "created_at": stamp, "updated_at": stamp}
        if person.ap_hard_bounced:
            doc["mail_hardbounced"] = {f"mail_demo{person.index}": int(moment.timestamp() * 1000)}
        yield doc
