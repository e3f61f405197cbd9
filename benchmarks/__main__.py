"""`make bench`: run every benchmark and print one table; figures also land in bench-results/."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from consent_sandbox.testing import running_sandbox

from . import bulk, first_load, memory_curve, sandbox_throughput, scale, sync_calls

SUITES = {"sandbox": sandbox_throughput.run, "sync": sync_calls.run, "scale": scale.run,
          "bulk": bulk.run, "first-load": first_load.run}
# suites whose sandbox starts with more than the unthrottled defaults (size -> arguments)
SANDBOX_ARGS = {"scale": scale.sandbox_args, "bulk": bulk.sandbox_args,
                "first-load": first_load.sandbox_args}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    # no `choices` with a list default: argparse checks the default list itself against them
    parser.add_argument("suites", nargs="*", metavar="suite",
                        help=f"one or more of {', '.join(SUITES)} (default: all)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--size", type=int, default=None,
                        help="people (sync, scale) or rows (sandbox) instead of each suite's "
                             "default")
    parser.add_argument("--sizes", type=lambda text: [int(n) for n in text.split(",")],
                        default=None, help="scale only: several sizes in one go (10000,30000), "
                        "ending with peak RSS per process per size")
    parser.add_argument("--new-people", action="store_true",
                        help="scale only: the demo people start in Salesforce alone, so the "
                        "first load creates every contact (the size 1,000,000 can afford)")
    args = parser.parse_args(argv)
    if args.new_people and args.suites != ["scale"]:
        parser.error("--new-people runs the scale suite only: `scale --new-people`")
    if args.sizes:
        if args.suites != ["scale"]:
            parser.error("--sizes runs the scale suite only: `scale --sizes 10000,30000`")
        curves = {}
        for size in args.sizes:
            main(["scale", "--size", str(size), "--out", str(args.out / f"scale-{size}"),
                  *(["--new-people"] if args.new_people else [])])
            curves[size] = json.loads((args.out / f"scale-{size}" / "results.json")
                                      .read_text())["scale"]
        print(memory_curve.curve(curves))
        return
    unknown = [name for name in args.suites if name not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}: choose from {', '.join(SUITES)}")
    args.suites = args.suites or list(SUITES)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    for name in args.suites:
        with tempfile.TemporaryDirectory() as tmp, running_sandbox(
            Path(tmp), "--autopilot-rate-limit", "100000", "--daily-api-limit", "100000000",
            *SANDBOX_ARGS.get(name, lambda size: [])(args.size),
            *(scale.NEW_PEOPLE_SANDBOX_ARGS if args.new_people else []),
            # demo data of a large size loads before the sandbox answers
            timeout=max(900.0, (args.size or 0) / 500),
        ) as sandbox:
            results[name] = (scale.run(sandbox, args.size, new_people=True) if args.new_people
                             else SUITES[name](sandbox, args.size))
        for metric, value in results[name].items():
            if isinstance(value, list | dict):  # a suite's table: it printed it itself
                continue
            print(f"{name:<10} {metric:<48} {value}")
    (args.out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
