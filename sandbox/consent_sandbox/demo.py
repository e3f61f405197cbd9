"""Demo people that look like a real org, shared by both stand-ins so the two systems overlap.

Each API's loader turns a DemoPerson into its own records; both read the same list, so the
same address shows up on both sides, sometimes with the opt-out on one side only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Radia", "Tim",
         "Frances", "Donald", "Hedy", "Dennis", "Katherine", "John", "Sophie", "Niklaus"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Torvalds",
        "Perlman", "Berners-Lee", "Allen", "Knuth", "Lamarr", "Ritchie", "Johnson", "Backus"]
DOMAINS = ["example.com", "example.org", "acme.example", "globex.example", "initech.example",
           "umbrella.example", "münchen.example"]
COUNTRIES = ["United States", "Germany", "Australia", "Canada", "France", "Japan"]
LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                 "Closed - Not Converted"]

HISTORY = timedelta(days=30)  # the demo people changed over the past month

# Salesforce record kinds a person can have
LEAD, CONTACT, PERSON_ACCOUNT, CONVERTED_LEAD = "Lead", "Contact", "PersonAccount", "ConvertedLead"


@dataclass(frozen=True)
class DemoPerson:
    index: int
    first_name: str
    last_name: str
    company: str
    email: str | None  # None: the record has no email; may be malformed (email_ok False)
    email_ok: bool
    salesforce: tuple[str, ...]  # kinds of CRM records; a second record uses another letter case
    sf_opted_out: bool
    sf_deleted: bool  # the first CRM record sits in the recycle bin
    in_autopilot: bool
    ap_unsubscribed: bool
    ap_hard_bounced: bool
    lead_status: str
    country: str

    def email_variant(self, n: int) -> str | None:
        """The address as the n-th duplicate record spells it (real orgs mix letter case)."""
        if self.email is None or n == 0:
            return self.email
        return self.email.upper() if n % 2 else self.email.title()


def demo_people(size: int, seed: int = 7) -> list[DemoPerson]:
    rng = random.Random(seed)
    people = []
    for i in range(size):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = rng.choice(DOMAINS)
        roll = rng.random()
        if roll < 0.02:
            email, ok = None, False
        elif roll < 0.04:
            email, ok = f"{first.lower()}.{last.lower()}{i}@@{domain}", False
        else:
            email, ok = f"{first.lower()}.{last.lower()}{i}@{domain}", True
        kind_roll = rng.random()
        if kind_roll < 0.55:
            kinds: tuple[str, ...] = (LEAD,)
        elif kind_roll < 0.75:
            kinds = (CONTACT,)
        elif kind_roll < 0.85:
            kinds = (LEAD, CONTACT)  # duplicates sharing one address
        elif kind_roll < 0.92:
            kinds = (CONVERTED_LEAD,)
        else:
            kinds = (PERSON_ACCOUNT,)
        in_ap = ok and rng.random() < 0.7 or (not ok and rng.random() < 0.5)
        people.append(
            DemoPerson(
                index=i,
                first_name=first,
                last_name=last,
                company=f"{last} {rng.choice(['Labs', 'Inc', 'GmbH', 'Ltd'])}",
                email=email,
                email_ok=ok,
                salesforce=kinds,
                sf_opted_out=rng.random() < 0.08,
                sf_deleted=rng.random() < 0.02,
                in_autopilot=bool(in_ap) and email is not None,
                ap_unsubscribed=rng.random() < 0.08,
                ap_hard_bounced=rng.random() < 0.03,
                lead_status=rng.choice(LEAD_STATUSES),
                country=rng.choice(COUNTRIES),
            )
        )
    return people


def changed_at(index: int, size: int, now: datetime) -> datetime:
    """When demo person ``index`` of ``size`` last changed: over the past month, 7 s apart, closer
    in a large org so that none changed in the future (no real record has, and a bookmark past
    now would pass over every later edit)."""
    step = min(7.0, (HISTORY - timedelta(hours=1)).total_seconds() / max(size, 1))
    return now - HISTORY + timedelta(seconds=index * step)
