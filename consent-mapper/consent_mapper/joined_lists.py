"""Lists a platform contact already joined, as far as the ledger knows: left out of an upsert.

A run reads only the CRM rows that changed, so a person with a Lead and a Contact whose Contact
changed gets a profile of the Contact alone; its digest differs from the last one sent and the
profile goes out again with the Contact's list. The target cannot tell a member re-sent to a list
from a contact missing in it without reading the list (a page per 100 members) or joining it by
call (one call each), so every such re-send cost a join call. The ledger can tell: a list given
by a kind of CRM record the person already had live and selected before this run was sent in an
earlier profile, and `lists_confirmed` says the platform contact was read back after the last
profile that carried lists. Those lists are left out; lists of a kind new to the person, or any
list while a profile sent with lists is unconfirmed (its run may have failed) or the contact is
new, are sent as before. A profile re-sent with no list left in it leaves what is known joined
as it was: Autopilot's hooks of a run's upserts often arrive after the read that follows it, so
its re-sends would otherwise join every list again by call (one call each).

Left out means not joined again: a person removed from such a list by hand in the platform
stays out of it until the sync sends that list again (a new kind of record, a new contact).
"""

from __future__ import annotations

from typing import Any

from consent_mapper.profile import Profile
from consent_mapper.rules import CRM, PersonMemory, RecordKey


def already_joined(before: PersonMemory, contact: RecordKey, profile: Profile) -> set[str]:
    """The lists of this run's ``profile`` that ``contact`` joined in an earlier run."""
    if contact not in before.records or before.profile_hash is None \
            or not before.lists_confirmed or before.withheld_profile is not None:
        # a profile held back (rules.held_back) may carry lists of a kind of record new then,
        # never sent: the kinds the ledger knows no longer say what the contact joined
        return set()
    had = {key.object for key, memory in before.records.items()
           if key.role == CRM and memory.live and memory.selected}
    return {name for obj, name in profile.list_objects if obj in had}


def without_joined(doc: dict[str, Any], joined: set[str]) -> dict[str, Any]:
    """The upsert's profile part without the lists its contact is already in."""
    if not joined or not doc.get("lists"):
        return doc
    rest = [name for name in doc["lists"] if name not in joined]
    out = {key: value for key, value in doc.items() if key != "lists"}
    if rest:
        out["lists"] = rest
    return out
