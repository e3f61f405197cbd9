"""`make bench`: run every benchmark and print one table; figures also land in bench-results/."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from consent_sandbox.testing import running_sandbox

from . import sandbox_throughput, sync_calls

SUITES = {"sandbox": sandbox_throughput.run, "sync": sync_calls.run}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suites", nargs="*", default=list(SUITES), choices=list(SUITES))
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)
    results: dict[str, dict] = {}
    for name in args.suites:
        with tempfile.TemporaryDirectory() as tmp, running_sandbox(
            Path(tmp), "--autopilot-rate-limit", "100000", "--daily-api-limit", "100000000"
        ) as sandbox:
            results[name] = SUITES[name](sandbox)
        for metric, value in results[name].items():
            print(f"{name:<10} {metric:<48} {value}")
    (args.out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
