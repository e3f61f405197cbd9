"""`make bench` at a tiny size: the harness parses its arguments and runs a suite through."""

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
def test_the_harness_runs_a_suite_at_a_tiny_size(tmp_path):
    # the sync suite takes seven `meltano run`s even at --size 20: run it by hand, not here
    result = bench("sandbox", "--size", "400", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"sandbox"}
    assert results["sandbox"]["autopilot bulk upserts/s (100 contacts)"] > 0


def test_an_unknown_suite_is_named():
    result = bench("nope")
    assert result.returncode == 2
    assert "unknown suite(s) nope" in result.stderr


def test_the_first_load_suite_measures_cpu_beside_the_trivial_pipeline(tmp_path):
    result = bench("first-load", "--size", "40", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]
    first = json.loads((tmp_path / "results.json").read_text())["first-load"]
    assert first["contacts_with_their_leads_consent"] == 40
    assert first["autopilot_calls"] <= 5  # one bulk upsert, the list, its members
    assert first["cpu_s"] > 0 and first["trivial_cpu_s"] > 0 and first["cpu_x_trivial"] > 0
    assert "target-autopilot" in first["peak_rss_mb"]


def test_new_people_is_refused_outside_the_scale_suite():
    result = bench("sync", "--new-people")
    assert result.returncode == 2
    assert "--new-people runs the scale suite only" in result.stderr
