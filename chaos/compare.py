"""Two end states of one script, record by record, and the consent promises they break."""

from __future__ import annotations

from dataclasses import dataclass

from .world import Outcome

ABSENT = "absent"


@dataclass(frozen=True)
class Difference:
    person: str  # "-" for the world as a whole
    where: str  # the record ("salesforce c3-lead-1", "autopilot c3@chaos.io"), or "ledger agreed"
    what: str  # "opted_out", "email", "state", "quiet", "start"
    undisturbed: object
    disturbed: object

    @property
    def opt_out_lost(self) -> bool:
        return self.what == "opted_out" and self.undisturbed is True and self.disturbed is False

    def describe(self) -> str:
        return (f"{self.person}: {self.where} {self.what}: undisturbed={self.undisturbed} "
                f"disturbed={self.disturbed}")


def diverged(undisturbed: Outcome, disturbed: Outcome) -> set[str]:
    """People whose script meant other consent acts in the two worlds: an edit that changed a
    record in one world found it already so in the other (the sync's writes there landed at
    other times), so their users did different things. R7 promises the end state of the same
    edits; these people are not compared, and each world is still held to its own acts
    (`spurious_opt_ins`)."""
    people = set(undisturbed.acts) | set(disturbed.acts)
    return {p for p in people if undisturbed.acts.get(p, []) != disturbed.acts.get(p, [])}


def read_only_ends(undisturbed: Outcome, disturbed: Outcome) -> list[str]:
    """Records that differ only in the value they kept when they became read-only: the write owed
    to them failed, then they were deleted or converted before it landed, and a world's ledger
    gave it up (docs/consent-decisions.md, intended). Not differences."""
    found = []
    for key in sorted(undisturbed.given_up | disturbed.given_up):
        before, after = undisturbed.records.get(key), disturbed.records.get(key)
        if before is None or after is None or before["state"] != after["state"] \
                or after["state"] == "live" or before["email"] != after["email"]:
            continue
        if before["opted_out"] != after["opted_out"]:
            found.append(key)
    return found


def differences(undisturbed: Outcome, disturbed: Outcome) -> list[Difference]:
    found: list[Difference] = []
    skip = diverged(undisturbed, disturbed)
    read_only = set(read_only_ends(undisturbed, disturbed))
    if disturbed.blocked_at:
        found.append(Difference("-", f"run {disturbed.blocked_at}", "start", "ran",
                                "refused: the killed run is still marked running"))
        return found  # the world stopped there: its end state says nothing
    if not (undisturbed.quiet and disturbed.quiet):  # never two runs in a row without writes
        found.append(Difference("-", "world", "quiet", undisturbed.quiet, disturbed.quiet))
    for key in sorted(set(undisturbed.records) | set(disturbed.records)):
        before, after = undisturbed.records.get(key), disturbed.records.get(key)
        person = (before or after)["person"]
        if person in skip or key in read_only:
            continue
        if before is None or after is None:
            found.append(Difference(person, key, "state", _presence(before), _presence(after)))
            continue
        for what in ("state", "email", "opted_out"):
            if before[what] != after[what]:
                found.append(Difference(person, key, what, before[what], after[what]))
    for person in sorted((set(undisturbed.agreed) | set(disturbed.agreed)) - skip):
        before = undisturbed.agreed.get(person, ABSENT)
        after = disturbed.agreed.get(person, ABSENT)
        if before != after:
            found.append(Difference(person, "ledger agreed", "opted_out", before, after))
    return found


def spurious_opt_ins(outcome: Outcome) -> list[str]:
    """Live records left subscribed although the person's last consent act in this world was an
    opt-out (acts are edits that changed a record: a box set to the value it had is none)."""
    return sorted(f"{record['person']}: {key} subscribed"
                  for key, record in outcome.records.items()
                  if record["state"] == "live" and not record["opted_out"]
                  and nobody_resubscribed(outcome.acts.get(record["person"], [])))


def nobody_resubscribed(acts: list[tuple[str, int]]) -> bool:
    """The person opted out (or bounced) and no later step re-subscribed them (R3: in one
    step, an opt-out wins over a re-subscribe)."""
    outs = [step for kind, step in acts if kind == "out"]
    return bool(outs) and not any(kind == "in" and step > max(outs) for kind, step in acts)


def _presence(record: dict | None) -> str:
    if record is None:
        return ABSENT
    return f"{record['state']} opted_out={record['opted_out']}"
