"""The memory curve: each process's largest peak RSS per size, and its growth."""

from __future__ import annotations

from benchmarks.memory_curve import curve, peaks_by_process


def result(tap: float, mapper: float) -> dict:
    return {"rows": [
        {"step": "first load", "peak_rss_mb": {"tap-x": tap, "consent-mapper": 50.0}},
        {"step": "idle", "peak_rss_mb": {"tap-x": 40.0, "consent-mapper": mapper}},
        {"step": "trivial pipeline, 10 records", "peak_rss_mb": {"tap-x": 999.0}}]}


def test_each_process_keeps_its_largest_step_and_the_yardstick_is_left_out():
    assert peaks_by_process(result(80.0, 60.0)) == {"tap-x": 80.0, "consent-mapper": 60.0}


def test_the_curve_shows_every_size_and_the_growth_from_the_smallest_to_the_largest():
    text = curve({30_000: result(90.0, 61.0), 10_000: result(80.0, 60.0)})
    lines = text.splitlines()
    assert "10,000" in lines[1] and lines[1].index("10,000") < lines[1].index("30,000")
    tap = next(line for line in lines if line.startswith("tap-x"))
    assert tap.split() == ["tap-x", "80.0", "90.0", "+10.0"]
