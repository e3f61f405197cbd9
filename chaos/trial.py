"""Trials: one script played undisturbed and disturbed, compared. The undisturbed end state depends
only on the script, so trials that share a script share one undisturbed world."""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import compare
from .platforms import Platform
from .script import Script, generate
from .world import Options, Outcome, play


@dataclass
class Trial:
    number: int
    script: Script
    undisturbed: Outcome
    disturbed: Outcome
    differences: list[compare.Difference]
    spurious: dict[str, list[str]]  # world -> records subscribed where nobody re-subscribed
    seconds: float
    folder: Path
    # the undisturbed world the disturbed one was compared with when some step's sync committed
    # nothing for a direction (killed or failed before the ledger committed): a twin without it
    twin: Outcome | None = None
    read_only: list[str] = field(default_factory=list)  # compare.read_only_ends: intended

    @property
    def failed(self) -> bool:
        return bool(self.differences or any(self.spurious.values()))


class Trials:
    def __init__(self, platform: Platform, options: Options, seed: str, people: int, steps: int,
                 scripts: int, workdir: Path | None, keep: bool,
                 step_seconds: float | None = None) -> None:
        self.platform, self.options = platform, options
        self.seed, self.people, self.steps, self.scripts = seed, people, steps, max(1, scripts)
        self.workdir, self.keep = workdir, keep
        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)  # else every trial breaks at its start
        # disturbances drawn within this many seconds of each sync instead of within the time
        # it took undisturbed: then both worlds of a trial play at once
        self.step_seconds = step_seconds
        self._undisturbed: dict[int, Outcome] = {}
        self._locks = {k: threading.Lock() for k in range(self.scripts)}
        self._twins: dict[tuple, Outcome] = {}
        self._twin_lock = threading.Lock()

    def script(self, number: int) -> Script:
        return generate(f"{self.seed}:script:{number % self.scripts}", self.people, self.steps)

    def undisturbed(self, number: int, folder: Path) -> Outcome:
        key = number % self.scripts
        with self._locks[key]:
            if key not in self._undisturbed:
                self._undisturbed[key] = play(folder / "undisturbed", self.platform,
                                              self.script(number), self.options)
            return self._undisturbed[key]

    def twin(self, number: int, folder: Path, committed: dict[str, list[int]]) -> Outcome:
        """The script played undisturbed, each direction syncing only at the steps where the
        disturbed world's sync committed it: R7's "as an undisturbed run would" for a run that
        died before its decisions were durable is the world in which that run never happened
        (nothing of it survives, so no later run can know what it saw)."""
        key = (number % self.scripts, tuple(sorted((k, tuple(v)) for k, v in committed.items())))
        with self._twin_lock:
            if key not in self._twins:
                self._twins[key] = play(folder / "twin", self.platform, self.script(number),
                                        self.options, committed=committed)
            return self._twins[key]

    def run(self, number: int) -> Trial:
        start = time.monotonic()
        folder = Path(tempfile.mkdtemp(prefix=f"chaos-{number}-", dir=self.workdir))
        script = self.script(number)
        disturb = random.Random(f"{self.seed}:disturb:{number}")
        if self.step_seconds:
            with ThreadPoolExecutor(max_workers=2) as pool:
                calm = pool.submit(self.undisturbed, number, folder)
                disturbed = play(folder / "disturbed", self.platform, script, self.options,
                                 disturb, [self.step_seconds] * len(script.steps))
                undisturbed = calm.result()
        else:
            undisturbed = self.undisturbed(number, folder)
            disturbed = play(folder / "disturbed", self.platform, script, self.options, disturb,
                             undisturbed.step_seconds)
        twin = None
        if not disturbed.blocked_at and disturbed.committed != undisturbed.committed:
            twin = self.twin(number, folder, disturbed.committed)
        found = compare.differences(twin or undisturbed, disturbed)
        spurious = {"undisturbed": compare.spurious_opt_ins(undisturbed),
                    "disturbed": compare.spurious_opt_ins(disturbed)
                    if not disturbed.blocked_at else []}
        if twin is not None:
            spurious["twin"] = compare.spurious_opt_ins(twin)
        trial = Trial(number, script, undisturbed, disturbed, found, spurious,
                      time.monotonic() - start, folder, twin,
                      compare.read_only_ends(twin or undisturbed, disturbed))
        if not (self.keep or trial.failed):  # a failing trial keeps its runs' logs
            shutil.rmtree(folder, ignore_errors=True)
        return trial
