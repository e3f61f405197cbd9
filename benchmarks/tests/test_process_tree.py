"""Per-process CPU, sampled from /proc: the split of a run's CPU between its processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.process_tree import PeakMemory

BURNER = """
import time
while time.process_time() < 0.5:
    pass
time.sleep(0.8)
"""


def test_the_cpu_of_each_process_is_seen_by_its_name(tmp_path: Path):
    script = tmp_path / "burner.py"
    script.write_text(BURNER)
    process = subprocess.Popen([sys.executable, str(script)])
    with PeakMemory(process.pid, interval=0.1) as sampled:
        process.wait(timeout=60)
    assert sampled.cpu_by_name["burner.py"] >= 0.5
    assert sampled.peaks_mb["burner.py"] > 0
