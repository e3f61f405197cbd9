"""What the trials found, for a person to read."""

from __future__ import annotations

from collections.abc import Callable

from . import compare
from .code_version import sync_code_version
from .trial import Trial

Print = Callable[[str], None]


def trial(t: Trial, out: Print = print) -> None:
    d = t.disturbed
    out(f"trial {t.number} (script {t.script.seed}): {t.seconds:.0f} s; "
        f"runs undisturbed {len(t.undisturbed.runs)}, disturbed {len(d.runs)}; faults {d.faults}, "
        f"session expiries {d.expiries}, kills {d.kills}, refused after a kill {d.refusals}, "
        f"forced {d.forced}; differences {len(t.differences)}")
    if t.twin is not None:
        steps = "; ".join(f"{k} at steps {v}" for k, v in sorted(d.committed.items()))
        out(f"  compared with a twin world syncing each direction only at the steps the "
            f"disturbed world's syncs committed ({steps}): {len(t.twin.runs)} runs")
    for run in d.runs:
        if run.fired or run.returncode:
            fired = "; ".join(x.describe() for x in run.fired) or "no disturbance"
            out(f"  {run.label}: rc={run.returncode} {run.seconds:.1f}s writes={run.writes} "
                f"[{fired}]")
    split = sorted(compare.diverged(t.twin or t.undisturbed, d))
    if split:
        out(f"  not compared, their edits meant other consent acts in the two worlds: "
            f"{', '.join(split)}")
    for key in t.read_only:
        out(f"  intended: {key} kept its value: the write owed to it failed, then it was deleted "
            f"or converted (read-only) before the write landed")
    people = []
    for difference in t.differences:
        out(f"  difference {difference.describe()}")
        if difference.person != "-" and difference.person not in people:
            people.append(difference.person)
    for world, found in t.spurious.items():
        for line in found:
            out(f"  spurious opt-in ({world}) {line}")
            person = line.split(":")[0]
            if person not in people:
                people.append(person)
    for world, outcome in (("undisturbed", t.undisturbed), ("disturbed", d)):
        for line in outcome.skipped:
            out(f"  script edit skipped ({world}): {line}")
    for person in people:
        out(f"  script of {person}: " + "; ".join(t.script.history(person)))
    if t.failed and t.folder.exists():
        out(f"  kept: {t.folder}")


def summary(trials: list[Trial], force_after_kill: bool, out: Print = print) -> None:
    runs = [t.disturbed for t in trials]
    differences = [x for t in trials for x in t.differences]
    lost = [x for x in differences if x.opt_out_lost]
    spurious = {w: sum(len(t.spurious.get(w, [])) for t in trials)
                for w in ("undisturbed", "disturbed", "twin")}
    seconds = sum(t.seconds for t in trials) / max(1, len(trials))
    out("")
    out(f"trials {len(trials)}, faults {sum(r.faults for r in runs)}, "
        f"session expiries {sum(r.expiries for r in runs)}, kills {sum(r.kills for r in runs)}")
    refused = sum(r.refusals for r in runs)
    out(f"runs refused after a kill (the killed run still marked running): {refused}"
        + (f"; --force needed {sum(r.forced for r in runs)} times" if force_after_kill
           else "; forcing is off (--force-after-kill), so such a trial stops there"))
    out(f"differences {len(differences)} in {sum(bool(t.differences) for t in trials)} trials; "
        f"opt-outs lost {len(lost)}; spurious opt-ins {spurious['disturbed']} disturbed, "
        f"{spurious['undisturbed']} undisturbed, {spurious['twin']} twin")
    read_only = sum(len(t.read_only) for t in trials)
    out(f"records that kept their value when deleted or converted before an owed write landed "
        f"(intended, not differences): {read_only}")
    out(f"trials compared with a twin (a step's sync died before the ledger committed): "
        f"{sum(t.twin is not None for t in trials)}")
    out(f"mean trial {seconds:.0f} s")
    out(f"sync code {sync_code_version()} (trials on the same version add up)")
