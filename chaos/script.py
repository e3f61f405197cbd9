"""A deterministic two-way history of user edits in both systems, generated from a seed.

A script is a list of steps; a sync runs after each step. Actions name records by labels the
script gives them ("c3-lead-1"), so two worlds that played the same script can be compared record
by record whatever ids the systems handed out. The script only edits records it created itself:
records the sync creates appear at different moments in a disturbed world, and editing them would
make the two worlds' histories differ for reasons of the harness, not of the product.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

DOMAIN = "chaos.io"
EXIT_STATUS = "Disqualified"  # a Lead with this Status leaves the selection (see SELECTION)
SELECTION = {"Lead": [{"field": "Status", "operator": "not_equals", "value": EXIT_STATUS}]}
CRM_KINDS = ("Lead", "Contact", "PersonAccount")


@dataclass(frozen=True)
class Action:
    """One user edit. ``kind`` is one of the ``apply_*`` names of `world.World`."""

    kind: str
    person: str  # the normalized address
    label: str  # the record acted on, or created
    args: dict = field(default_factory=dict)

    def describe(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.kind} {self.label} {extra}".rstrip()


@dataclass
class Script:
    seed: str
    steps: list[list[Action]]

    def history(self, person: str) -> list[str]:
        return [f"step {n}: {a.describe()}" for n, step in enumerate(self.steps)
                for a in step if a.person == person]


@dataclass
class _Record:
    label: str
    kind: str  # Lead | Contact | PersonAccount | ap
    live: bool = True
    in_selection: bool = True


@dataclass
class _Person:
    address: str
    records: list[_Record] = field(default_factory=list)
    bounced: bool = False
    touched_crm_exit: bool = False  # a CRM record was deleted or left the selection
    serial: int = 0

    def label(self, kind: str) -> str:
        self.serial += 1
        return f"{self.address.split('@')[0]}-{kind.lower()}-{self.serial}"

    def live(self, *kinds: str) -> list[_Record]:
        return [r for r in self.records if r.live and r.kind in kinds]


def spelling(rng: random.Random, address: str) -> str:
    """The address as some user typed it: usually as is, sometimes in other letter case."""
    roll = rng.random()
    if roll < 0.15:
        return address.upper()
    if roll < 0.3:
        local, domain = address.split("@")
        return f"{local.capitalize()}@{domain.capitalize()}"
    return address


def generate(seed: str, people: int, steps: int) -> Script:
    """``steps`` steps (the first seeds both systems before any sync) over ``people`` people."""
    rng = random.Random(seed)
    script = Script(seed, [[] for _ in range(max(1, steps))])
    everyone = [_Person(f"c{i}@{DOMAIN}") for i in range(people)]
    later = [p for p in everyone if rng.random() < 0.25] if steps > 1 else []
    for person in everyone:
        if person not in later:
            _create_person(rng, script, person, 0)
    for step in range(1, len(script.steps)):
        for _ in range(max(1, round(people * 0.4))):
            _random_edit(rng, script, everyone, later, step)
    return script


def _add(script: Script, step: int, action: Action) -> None:
    script.steps[step].append(action)


def _create_crm(rng: random.Random, script: Script, person: _Person, step: int, kind: str,
                opted_out: bool) -> None:
    record = _Record(person.label(kind), kind)
    person.records.append(record)
    _add(script, step, Action("crm_create", person.address, record.label, {
        "object": kind, "email": spelling(rng, person.address), "opted_out": opted_out}))


def _create_ap(rng: random.Random, script: Script, person: _Person, step: int,
               unsubscribed: bool, email: str | None = None) -> str:
    record = _Record(person.label("ap"), "ap")
    person.records.append(record)
    email = email or spelling(rng, person.address)
    _add(script, step, Action("ap_create", person.address, record.label, {
        "email": email, "unsubscribed": unsubscribed}))
    return email


def _create_person(rng: random.Random, script: Script, person: _Person, step: int) -> None:
    """Someone new: CRM records (duplicates sometimes), an Autopilot contact, or both; only
    before the first sync can both systems know them already."""
    in_crm = step == 0 and rng.random() < 0.85 or step > 0 and rng.random() < 0.7
    in_ap = step == 0 and rng.random() < 0.5 or not in_crm
    if in_crm:
        kinds = [rng.choices(CRM_KINDS, weights=(5, 3, 2))[0]]
        if rng.random() < 0.3:  # a duplicate: a second Lead or Contact of the address
            kinds.append(rng.choice(("Lead", "Contact")))
        for kind in kinds:
            _create_crm(rng, script, person, step, kind, rng.random() < 0.25)
    if in_ap:
        unsubscribed = rng.random() < 0.3
        first = _create_ap(rng, script, person, step, unsubscribed)
        if step == 0 and rng.random() < 0.05:  # the same address again, in other letter case
            # never the same spelling: Autopilot upserts by address, so no world holds two
            # contacts spelt alike (seed stop22d made one, and its second contact stayed
            # subscribed: the sync can tell them apart only by spelling)
            upper = person.address.upper()
            _create_ap(rng, script, person, step, not unsubscribed,
                       email=upper if first != upper else person.address)


def _random_edit(rng: random.Random, script: Script, everyone: list[_Person],
                 later: list[_Person], step: int) -> None:
    known = [p for p in everyone if p.records]
    options: list[tuple[str, _Person]] = []
    if later:
        options.append(("create", later[0]))
    for p in known:
        crm = p.live("Lead", "Contact", "PersonAccount")
        ap = p.live("ap")
        options.append(("duplicate", p))
        if crm:
            options += [("crm_opt_out", p), ("crm_resubscribe", p), ("delete", p)]
        if p.live("Lead"):
            options += [("convert", p), ("leave_selection", p)]
        # after an exit, on_exit=remove takes the contact away at a run that a disturbed
        # world may reach later than the undisturbed one: an edit then meets different worlds
        if ap and not p.touched_crm_exit:
            options += [("ap_opt_out", p), ("ap_resubscribe", p), ("bounce", p)]
    if not options:
        return
    kind, person = rng.choice(options)
    if kind == "create":
        later.remove(person)
        _create_person(rng, script, person, step)
    elif kind == "duplicate":  # a new record of a known address, box unchecked (R4)
        _create_crm(rng, script, person, step, rng.choice(("Lead", "Contact")), False)
    elif kind in ("crm_opt_out", "crm_resubscribe"):
        out = kind == "crm_opt_out"
        if not out and person.bounced:
            return  # a re-subscribe after a bounce has no agreed meaning yet
        record = rng.choice(person.live("Lead", "Contact", "PersonAccount"))
        _add(script, step, Action("crm_set", person.address, record.label,
                                  {"object": record.kind, "opted_out": out}))
    elif kind in ("ap_opt_out", "ap_resubscribe"):
        out = kind == "ap_opt_out"
        if not out and person.bounced:
            return
        record = rng.choice(person.live("ap"))
        _add(script, step, Action("ap_set", person.address, record.label,
                                  {"unsubscribed": out}))
    elif kind == "bounce":
        person.bounced = True
        record = rng.choice(person.live("ap"))
        _add(script, step, Action("ap_bounce", person.address, record.label))
    elif kind == "delete":
        record = rng.choice(person.live("Lead", "Contact", "PersonAccount"))
        record.live = False
        person.touched_crm_exit = True
        _add(script, step, Action("crm_delete", person.address, record.label,
                                  {"object": record.kind}))
    elif kind == "convert":
        lead = rng.choice(person.live("Lead"))
        lead.live = False
        into = person.live("Contact")
        if into and rng.random() < 0.4:  # into the Contact the person already has
            _add(script, step, Action("crm_convert", person.address, lead.label,
                                      {"into": rng.choice(into).label}))
        else:
            contact = _Record(f"{lead.label}>contact", "Contact")
            person.records.append(contact)
            _add(script, step, Action("crm_convert", person.address, lead.label,
                                      {"new_contact": contact.label}))
    elif kind == "leave_selection":
        lead = rng.choice([r for r in person.live("Lead") if r.in_selection] or [None])
        if lead is None:
            return
        lead.in_selection = False
        person.touched_crm_exit = True
        _add(script, step, Action("crm_leave_selection", person.address, lead.label))
