"""The scale suite's parts at a tiny size: the whole suite takes seven `meltano run`s even at
--size 20 (`python -m benchmarks scale --size 20` by hand), so only its yardstick runs here."""

from __future__ import annotations

import pytest

from benchmarks import scale
from benchmarks.process_tree import plugin_name
from benchmarks.trivial_pipeline import project as trivial


@pytest.mark.xdist_group("bench-scale")
def test_the_trivial_pipeline_moves_its_records_through_meltano_and_is_measured(tmp_path):
    folder = trivial.write_project(tmp_path)
    measured = scale.run_trivial(folder, 50, timeout=600)
    assert '"metric":"record_count","value":50' in measured.output.replace(" ", "")
    assert "target-trivial" in measured.output
    assert measured.cpu_s > 0 and measured.wall_s > 0
    assert {"meltano", "tap-trivial", "mapper-trivial", "target-trivial"} <= set(
        measured.peak_rss_mb)
    assert all(mb > 10 for mb in measured.peak_rss_mb.values())



@pytest.mark.xdist_group("bench-scale")
def test_the_two_way_yardstick_runs_the_trivial_pipeline_twice_in_one_job(tmp_path):
    folder = trivial.write_project(tmp_path)
    measured = scale.run_trivial(folder, 7, timeout=600, job=trivial.JOB_TWO_WAY)
    # both blocks moved the records, the second one through plugins of its own
    moved = [line.split()[3] for line in measured.output.splitlines()
             if '"metric":"record_count","value":7' in line.replace(" ", "")]
    assert sorted(moved) == ["tap-trivial", "tap-trivial-back", "target-trivial",
                             "target-trivial-back"]

def test_a_row_scales_calls_to_10000_people_and_prices_them_at_the_rate_limits():
    yardstick = scale.Measured(wall_s=10, cpu_s=4, sandbox_cpu_s=0, peak_rss_mb={"meltano": 90})
    run = scale.Measured(wall_s=30, cpu_s=10, sandbox_cpu_s=2,
                         peak_rss_mb={"consent-mapper": 120.5, "meltano": 95},
                         calls={"autopilot": 1_100, "salesforce": 60, "autopilot_writes": 1_000,
                                "salesforce_writes": 0},
                         by_endpoint={"autopilot": {"POST /v1/contacts": 100}})
    row = scale._row("first load", run, 100_000, yardstick)
    assert row["autopilot_calls_per_10k"] == 110 and row["salesforce_calls_per_10k"] == 6
    assert row["autopilot_s_at_5_per_s"] == 220
    assert row["salesforce_daily_share_pct"] == 0.06
    assert row["cpu_x_trivial"] == 2.5 and row["wall_x_trivial"] == 3
    assert row["max_peak_rss_mb"] == 120.5
    assert row["calls_by_endpoint"]["autopilot"] == {"POST /v1/contacts": 100}
    printed = scale.table([row])
    assert "first load" in printed and "consent-mapper 120.5" in printed


@pytest.mark.parametrize(("argv", "name"), [
    (["/p/venv/bin/python", "/p/venv/bin/tap-autopilot", "--config", "c.json"], "tap-autopilot"),
    (["/p/.venv/bin/python3", "-m", "consent_mapper", "--about"], "consent_mapper"),
    (["/p/bin/target-trivial", "--config", "c.json"], "target-trivial"),
    ([], "?"),
])
def test_a_process_is_named_by_its_plugin_executable(argv, name):
    assert plugin_name(argv) == name
