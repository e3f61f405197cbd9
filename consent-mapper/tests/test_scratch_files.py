"""A mapper killed mid-run (kill -9) leaves no scratch file behind, however large its run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# Opens every scratch database of a run, fills two past SQLite's page cache (so they live on
# disk, not in memory), says so, and waits to be killed.
CHILD = """
import logging

from consent_mapper.activities import ActivityFeed
from consent_mapper.companies import Companies
from consent_mapper.adapters import autopilot
from consent_mapper.field_sync import FieldSync
from consent_mapper.rules import CRM, Observation, RecordKey
from consent_mapper.run_input import RunInput

run = RunInput()
companies = Companies(autopilot, "autopilot", {})
fields = FieldSync({"Title": "Title"}, CRM, "autopilot", logging.getLogger("test"))
activities = ActivityFeed(("mail_opened",), "Autopilot_Activity_Key__c")
for n in range(40_000):
    run.observe(Observation(RecordKey(CRM, "salesforce", "Lead", f"00Q{n:015d}"),
                            f"person{n}@example.com", False))
    companies.read("Contact", {"Id": f"003{n:015d}", "AccountId": f"001{n:015d}"})
run._ready()
print("filled", flush=True)
input()
"""


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc to see open files")
def test_a_killed_run_leaves_its_temp_folder_as_it_found_it(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "SQLITE_TMPDIR": str(tmp_path)}
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, text=True,
                             cwd=Path(__file__).parent,  # the installed consent_mapper
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == "filled\n"
        on_disk = [os.readlink(fd) for fd in Path(f"/proc/{child.pid}/fd").iterdir()
                   if os.readlink(fd).startswith(str(tmp_path))]
        assert len(on_disk) >= 2, "both scratch databases spill to files in the temp folder"
        assert all(path.endswith(" (deleted)") for path in on_disk), on_disk
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert list(tmp_path.iterdir()) == []
