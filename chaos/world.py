"""A world: empty systems in a sandbox of its own, a script played into them step by step with a
sync after each step, then plain syncs until two in a row write nothing; then its end state."""

from __future__ import annotations

import json
import math
import random
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy

from consent_mapper.ledger.schema import audit, people, runs
from consent_sandbox.testing import MeltanoProject, running_sandbox

from . import crm
from .platforms import Platform
from .runner import Disturbance, Run, run
from .script import EXIT_STATUS, SELECTION, Action, Script

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Options:
    on_exit: str = "remove"
    kill_rate: float = 0.5
    fault_rate: float = 1.5  # faults per disturbed run, on average
    expire_rate: float = 0.3
    max_quiet_runs: int = 6
    force_after_kill: bool = False
    entry: str = "schedule"  # how a sync starts: `meltano schedule run` (as deployed) or `run`


@dataclass
class Outcome:
    """What a world ended as, plus what happened on the way."""

    records: dict[str, dict]  # "<system> <key>" -> {"person", "email", "opted_out", "state"}
    agreed: dict[str, bool | None]  # the ledger's agreed opt-out per person
    runs: list[Run]
    quiet: bool
    step_seconds: list[float]
    blocked_at: str = ""  # the run Meltano refused after a kill (the world stopped there)
    skipped: list[str] = field(default_factory=list)  # script edits whose record was gone
    # ledger direction -> the script steps whose sync committed a run of it to the ledger
    committed: dict[str, list[int]] = field(default_factory=dict)
    # per person, the consent acts that changed a record in this world: ("out" | "in", step);
    # setting a box to the value it has is no act (R2: nothing changed)
    acts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # records ("salesforce <label>") whose owed write the ledger gave up because the record was
    # deleted or converted first: read-only, they keep the value they had (intended)
    given_up: frozenset[str] = frozenset()

    @property
    def faults(self) -> int:
        return sum(d.kind == "fault" for r in self.runs for d in r.fired)

    @property
    def expiries(self) -> int:
        return sum(d.kind == "expire" for r in self.runs for d in r.fired)

    @property
    def kills(self) -> int:
        return sum(r.killed for r in self.runs)

    @property
    def refusals(self) -> int:
        return sum(r.refused for r in self.runs)

    @property
    def forced(self) -> int:
        return sum(r.forced for r in self.runs)


def play(folder: Path, platform: Platform, script: Script, options: Options,
         disturb: random.Random | None = None, step_seconds: list[float] | None = None,
         committed: dict[str, list[int]] | None = None) -> Outcome:
    """Play ``script``; with ``disturb``, each step's sync is disturbed at moments drawn within
    ``step_seconds`` (how long the undisturbed sync of that step took). With ``committed`` (a
    twin world), a direction syncs only at the steps where the disturbed world's sync committed
    it: a run killed before its decisions were durable left nothing, as a run never made."""
    with running_sandbox(folder / "sandbox", *platform.sandbox_args) as sandbox:
        project = MeltanoProject(sandbox, folder, ROOT)
        project.extra_env.update({
            "CONSENT_MAPPER_ON_EXIT": options.on_exit,
            "TAP_SALESFORCE_OPTOUT_SELECTION": json.dumps(SELECTION),
            "TARGET_SALESFORCE_MAX_RETRIES": "2",
            "TARGET_AUTOPILOT_MAX_RETRIES": "2",
            "TARGET_SALESFORCE_RETRY_BACKOFF_SECONDS": "1",
            **platform.env(),
        })
        _create_system_database(project)
        return _Player(project, platform, options, committed).play(script, disturb,
                                                                     step_seconds)


def _create_system_database(project: MeltanoProject) -> None:
    """Meltano creates its system database on its first command, one table at a time on SQLite, so
    a kill then leaves one no later command opens ("table job already exists"). A deployed
    project's first command is `meltano install` (`make install`), never a scheduled run: each
    world starts so too, before its first (disturbed) sync."""
    result = subprocess.run([str(project.meltano), "state", "list"], cwd=project.project_root,
                            env=project.env(), capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"meltano state list failed:\n{result.stdout}{result.stderr}")


class _Player:
    def __init__(self, project: MeltanoProject, platform: Platform, options: Options,
                 committed: dict[str, list[int]] | None = None) -> None:
        self.project, self.platform, self.options = project, platform, options
        self.only_at = committed
        self.committed: dict[str, list[int]] = {}
        self.runs_seen: dict[str, int] = {}
        # (person, record label, step) -> the record's value before the step, and its act
        self._first_value: dict[tuple[str, str, int], bool] = {}
        self._record_acts: dict[tuple[str, str, int], str] = {}
        self.sandbox = project.sandbox
        self.ids: dict[str, str] = {}  # script label -> id in this world
        self.runs: list[Run] = []
        self.skipped: list[str] = []
        self.forcing = False
        self.apis = ("salesforce", platform.name)

    def play(self, script: Script, disturb: random.Random | None,
             step_seconds: list[float] | None) -> Outcome:
        seconds: list[float] = []
        for n, step in enumerate(script.steps):
            for action in step:
                self.apply(n, action)
            plan = []
            if disturb is not None:
                known = step_seconds or []
                expected = known[n] if n < len(known) else 15.0
                plan = self.disturbances(disturb, expected)
            due = self.due(n)
            sync = self.sync(f"step-{n}", plan) if due is None else self.sync_only(f"step-{n}",
                                                                                   due)
            if sync is None:
                return self.outcome(False, seconds, blocked_at=f"step-{n}")
            seconds.append(sync.seconds)
            self.note_commits(n)
        streak = 0
        for n in range(self.options.max_quiet_runs):
            sync = self.sync(f"quiet-{n}", [])
            if sync is None:
                return self.outcome(False, seconds, blocked_at=f"quiet-{n}")
            self.note_commits(None)
            streak = streak + 1 if sync.quiet else 0
            if streak == 2:
                break
        return self.outcome(streak == 2, seconds)

    def due(self, step: int) -> list[str] | None:
        """The directions a twin syncs at ``step``; None: all of them, as the job does."""
        if self.only_at is None:
            return None
        due = [d for d in self.platform.direction_jobs if step in self.only_at.get(d, [])]
        return None if len(due) == len(self.platform.direction_jobs) else due

    def sync_only(self, label: str, directions: list[str]) -> Run:
        """A twin's sync of some directions alone (undisturbed, in the job's order)."""
        done = Run(label, 0, 0.0, 0, [], False, self.project.workdir, False)
        for direction in directions:
            done = run(self.project, ["run", self.platform.direction_jobs[direction]],
                       self.apis, f"{label}-{direction}", [], force=False)
            self.runs.append(done)
        return done

    def note_commits(self, step: int | None) -> None:
        """Which directions committed a run to the ledger during this step's sync."""
        done = self._ledger(runs, sqlalchemy.select(runs.c.direction, sqlalchemy.func.count())
                            .where(runs.c.finished_at.is_not(None)).group_by(runs.c.direction))
        for direction, count in done:
            if count > self.runs_seen.get(direction, 0) and step is not None:
                self.committed.setdefault(direction, []).append(step)
            self.runs_seen[direction] = count

    def _ledger(self, table: sqlalchemy.Table, query: sqlalchemy.Select) -> list[tuple]:
        """The rows of ``query`` on this world's ledger; none while no run got as far as it."""
        path = self.project.workdir / "consent-ledger.db"
        if not path.exists():
            return []
        engine = sqlalchemy.create_engine(f"sqlite:///{path}")
        try:
            if not sqlalchemy.inspect(engine).has_table(table.name):
                return []
            with engine.connect() as db:
                return [tuple(row) for row in db.execute(query)]
        finally:
            engine.dispose()

    def act(self, person: str, label: str, step: int, before: bool | None,
            after: bool) -> None:
        """An edit of one record's consent. The sync reads between steps, so only a record's
        net change over a step is an act: edits that cancel out between two reads are none
        (docs/consent-decisions.md), and a new record only counts opted out (R4)."""
        key = (person, label, step)
        first = self._first_value.setdefault(key, bool(before))
        if after == first:
            self._record_acts.pop(key, None)
        else:
            self._record_acts[key] = "out" if after else "in"

    @property
    def acts(self) -> dict[str, list[tuple[str, int]]]:
        acts: dict[str, list[tuple[str, int]]] = {}
        for (person, _, step), kind in sorted(self._record_acts.items(), key=lambda i: i[0][2]):
            acts.setdefault(person, []).append((kind, step))
        return acts

    def disturbances(self, rng: random.Random, expected: float) -> list[Disturbance]:
        plan = []
        for _ in range(_poisson(rng, self.options.fault_rate)):
            api = rng.choice(self.apis)
            fault = crm.random_fault(rng) if api == "salesforce" else \
                self.platform.random_fault(rng)
            plan.append(Disturbance(rng.uniform(0, expected), "fault", api, fault))
        if rng.random() < self.options.expire_rate:
            plan.append(Disturbance(rng.uniform(0, expected), "expire"))
        if rng.random() < self.options.kill_rate:
            plan.append(Disturbance(rng.uniform(0.02, 0.98) * expected, "kill"))
        return plan

    def sync(self, label: str, plan: list[Disturbance]) -> Run | None:
        """One sync; None when Meltano refused to start after a kill and forcing is off. Once
        refused, every later run of the world is forced (the killed run stays marked running
        for Meltano's stale-job window) and counted as such."""
        if self.options.entry == "schedule":
            job = ["schedule", "run", self.platform.schedule]
        else:
            job = ["run", self.platform.job]
        result = run(self.project, job, self.apis, label, plan, force=self.forcing)
        self.runs.append(result)
        if result.refused:
            if not self.options.force_after_kill:
                return None
            self.forcing = True
            rest = [d for d in plan if d not in result.fired]
            result = run(self.project, job, self.apis, f"{label}-forced", rest, force=True)
            self.runs.append(result)
        return result

    def apply(self, step: int, action: Action) -> None:
        a, sandbox = action.args, self.sandbox
        if action.kind == "crm_create":
            self.ids[action.label] = crm.create(sandbox, a["object"], action.label, a["email"],
                                                a["opted_out"])
            self.act(action.person, action.label, step, None, a["opted_out"])
        elif action.kind == "crm_set":
            record_id = self.ids[action.label]
            before = crm.opted_out(sandbox, a["object"], record_id)
            crm.set_opted_out(sandbox, a["object"], record_id, a["opted_out"])
            self.act(action.person, action.label, step, before, a["opted_out"])
        elif action.kind == "crm_delete":
            crm.delete(sandbox, a["object"], self.ids[action.label])
        elif action.kind == "crm_leave_selection":
            crm.edit(sandbox, "Lead", self.ids[action.label], Status=EXIT_STATUS)
        elif action.kind == "crm_convert":
            into = self.ids[a["into"]] if "into" in a else None
            contact = crm.convert(sandbox, self.ids[action.label], into)
            if "new_contact" in a:
                self.ids[a["new_contact"]] = contact
        elif action.kind == "ap_create":
            self.ids[action.label] = self.platform.create(sandbox, a["email"], a["unsubscribed"])
            self.act(action.person, action.label, step, None, a["unsubscribed"])
        elif action.kind in ("ap_set", "ap_bounce"):
            contact_id = self.ids[action.label]
            before = self._contact_opted_out(contact_id)
            done = (self.platform.set_opted_out(sandbox, contact_id, a["unsubscribed"])
                    if action.kind == "ap_set" else self.platform.bounce(sandbox, contact_id))
            if not done:
                self.skipped.append(f"step {step}: {action.describe()} (contact gone)")
            else:
                # a bounced contact stays opted out whatever its flag says
                self.act(action.person, action.label, step, before,
                         bool(self._contact_opted_out(contact_id)))
        else:
            raise ValueError(f"unknown script action {action.kind}")

    def _contact_opted_out(self, contact_id: str) -> bool | None:
        return next((c["opted_out"] for c in self.platform.contacts(self.sandbox)
                     if c["id"] == contact_id), None)

    def outcome(self, quiet: bool, seconds: list[float], blocked_at: str = "") -> Outcome:
        return Outcome(self.end_records(), self.agreed(), self.runs, quiet, seconds, blocked_at,
                       self.skipped, dict(self.committed), self.acts, self.given_up())

    def end_records(self) -> dict[str, dict]:
        labels = {record_id: label for label, record_id in self.ids.items()}
        found: dict[str, dict] = {}
        for row in crm.records(self.sandbox):
            key = labels.get(row["id"], f"{row['kind']} {row['email']} {row['id']}")
            found[f"salesforce {key}"] = _state(row)
        by_address: dict[str, list[dict]] = defaultdict(list)
        for contact in self.platform.contacts(self.sandbox):
            by_address[contact["email"].strip().lower()].append(contact)
        for address, contacts in by_address.items():
            for n, contact in enumerate(sorted(contacts, key=lambda c: c["email"])):
                suffix = f" #{n + 1}" if n else ""
                found[f"{self.platform.name} {address}{suffix}"] = _state(contact | {
                    "state": "live"})
        return found

    def given_up(self) -> frozenset[str]:
        """The Salesforce records whose owed write ended as read-only (`R7 write given up: the
        record was deleted` / `... is a converted Lead`), by script label."""
        sources = self._ledger(audit, sqlalchemy.select(audit.c.source).where(
            audit.c.rule == "R7", audit.c.detail.like("write given up: the record %")))
        ids = {source.rsplit(" ", 1)[-1] for (source,) in sources if source}
        labels = {record_id: label for label, record_id in self.ids.items()}
        return frozenset(f"salesforce {labels[i]}" for i in ids if i in labels)

    def agreed(self) -> dict[str, bool | None]:
        """The ledger's agreed state per person, read through the mapper's own table."""
        rows = self._ledger(people, sqlalchemy.select(people.c.email, people.c.agreed))
        return {email: None if agreed is None else bool(agreed) for email, agreed in rows}


def _state(row: dict) -> dict:
    return {"person": row["email"].strip().lower(), "email": row["email"],
            "opted_out": row["opted_out"], "state": row["state"]}


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's draw: small means only."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
