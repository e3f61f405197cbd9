"""Demo contacts: the Autopilot side of the shared demo people."""

from __future__ import annotations

from ..demo import DemoPerson
from ..settings import SandboxSettings
from .store import Store, new_contact_id, now_iso, now_ms


def load_demo(settings: SandboxSettings, people: list[DemoPerson]) -> None:
    """One contact per person in Autopilot, once: a restart keeps what is there."""
    store = Store(settings.autopilot_db)
    if not store.is_empty():
        return
    stamp, ms = now_iso(), now_ms()

    def docs() -> object:
        for person in people:
            if not person.in_autopilot or person.email is None:
                continue
            doc = {"contact_id": new_contact_id(), "Email": person.email,
                   "FirstName": person.first_name, "LastName": person.last_name,
                   "Company": person.company, "unsubscribed": person.ap_unsubscribed,
                   "created_at": stamp, "updated_at": stamp}
            if person.ap_hard_bounced:
                doc["mail_hardbounced"] = {f"mail_demo{person.index}": ms}
            yield doc

    with store.transaction():
        store.insert_many(docs())
    store.db.close()
