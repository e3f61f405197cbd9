"""`make chaos`: scripted two-way edit histories, synced undisturbed and disturbed, compared.

Exits non-zero on any difference between the two end states, any spurious opt-in, a world that
never goes quiet, or a run Meltano refuses to start after a kill.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import report
from .platforms import PLATFORMS
from .trial import Trial, Trials
from .world import Options


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", default="1")
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--steps", type=int, default=4,
                        help="script steps, each followed by a sync (the first seeds both systems)")
    parser.add_argument("--scripts", type=int, default=0,
                        help="distinct scripts the trials cycle through (default: trials/4); "
                             "their undisturbed worlds are played once")
    parser.add_argument("--jobs", type=int, default=1, help="trials at once, each its own sandbox")
    parser.add_argument("--platform", choices=sorted(PLATFORMS), default="autopilot")
    parser.add_argument("--on-exit", choices=("remove", "keep"), default="remove")
    parser.add_argument("--kill-rate", type=float, default=0.5,
                        help="chance that a disturbed step's sync is killed")
    parser.add_argument("--fault-rate", type=float, default=1.5,
                        help="faults per disturbed sync, on average")
    parser.add_argument("--expire-rate", type=float, default=0.3,
                        help="chance that the Salesforce session expires during a disturbed sync")
    parser.add_argument("--max-quiet-runs", type=int, default=6,
                        help="plain syncs after the script before a world counts as never quiet")
    parser.add_argument("--step-seconds", type=float, default=None,
                        help="draw each disturbed sync's disturbances within this many seconds "
                             "(default: the time the sync took undisturbed) and play both "
                             "worlds of a trial at once")
    parser.add_argument("--entry", choices=("schedule", "run"), default="schedule",
                        help="start each sync as the schedule does (`meltano schedule run`, "
                             "default) or as a bare `meltano run <job>`")
    parser.add_argument("--force-after-kill", action="store_true",
                        help="rerun with MELTANO_RUN_FORCE=true when Meltano refuses to start "
                             "after a kill (counted; off by default: a refusal is a finding)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where trial folders go (default: the system's temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep every trial's folder")
    parser.add_argument("--json", type=Path, default=None, help="also write the findings here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    options = Options(on_exit=args.on_exit, kill_rate=args.kill_rate,
                      fault_rate=args.fault_rate, expire_rate=args.expire_rate,
                      max_quiet_runs=args.max_quiet_runs, force_after_kill=args.force_after_kill,
                      entry=args.entry)
    trials = Trials(PLATFORMS[args.platform](), options, args.seed, args.people, args.steps,
                    args.scripts or max(1, args.trials // 4), args.workdir, args.keep,
                    args.step_seconds)
    done: list[Trial] = []
    broken = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(trials.run, number) for number in range(args.trials)]
        for number, future in enumerate(futures):
            try:
                result = future.result()
            except Exception:  # one broken trial must not hide the others' findings
                broken += 1
                print(f"trial {number} broke:\n{traceback.format_exc()}")
                continue
            report.trial(result)
            sys.stdout.flush()
            done.append(result)
    report.summary(done, args.force_after_kill)
    if args.json:
        args.json.write_text(json.dumps([_findings(t) for t in done], indent=2))
    if broken:
        print(f"trials that broke (harness or sandbox errors): {broken}")
    return 1 if broken or any(t.failed for t in done) else 0


def _findings(t: Trial) -> dict:
    d = t.disturbed
    return {"trial": t.number, "script": t.script.seed, "seconds": round(t.seconds, 1),
            "faults": d.faults, "expiries": d.expiries, "kills": d.kills,
            "refused": d.refusals, "forced": d.forced,
            "differences": [x.describe() for x in t.differences], "spurious": t.spurious,
            "read_only": t.read_only}


if __name__ == "__main__":
    sys.exit(main())
