"""`make bench` at a tiny size: the harness parses its arguments and every suite runs through."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.xdist_group("bench-harness")
def test_every_suite_runs_at_a_tiny_size(tmp_path):
    result = bench("--size", "20", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"sandbox", "sync"}
    assert results["sync"]["sf->ap Autopilot calls per 20 contacts written"] > 0
    assert results["sync"]["quiet consent-sync write calls"] == 0
    assert results["sync"]["idle consent-sync Autopilot calls (change feed)"] == 0


def test_an_unknown_suite_is_named():
    result = bench("nope")
    assert result.returncode == 2
    assert "unknown suite(s) nope" in result.stderr
