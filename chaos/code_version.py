"""Which sync code the trials ran on, so that trials of several sessions on it can add up.

Only the code under test counts: the plugins the trials run, the mapper, their libraries and
`meltano.yml`, without their tests. A change to a test, the sandbox, this harness or the
ActiveCampaign plugins (no trial starts them: the harness plays Autopilot only) does not change
what R7 is checked against.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYNC_CODE = ("api-pacing", "consent-mapper", "salesforce-session", "tap-autopilot",
             "tap-salesforce-optout", "target-autopilot", "target-salesforce", "meltano.yml")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def sync_code_version(paths: tuple[str, ...] = SYNC_CODE, root: Path = ROOT) -> str:
    """A short hash of the committed files of ``paths`` (tests left out), with "+changed" when
    the work tree differs from them there (those trials ran on code no commit holds)."""
    try:
        listing = _git(root, "ls-tree", "-r", "HEAD", "--", *paths).splitlines()
        changed = _git(root, "status", "--porcelain", "--", *paths).splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    files = sorted(line for line in listing if not _is_test(line.split("\t", 1)[1]))
    version = hashlib.sha256("\n".join(files).encode()).hexdigest()[:12]
    return version + ("+changed" if any(not _is_test(line[3:]) for line in changed) else "")


def _is_test(path: str) -> bool:
    return "/tests/" in f"/{path}"
