"""The sync code version names the committed trees of the code under test."""

from __future__ import annotations

import subprocess

from chaos.code_version import ROOT, SYNC_CODE, sync_code_version


def test_the_version_follows_the_trees_of_the_sync_code_and_nothing_else():
    version = sync_code_version()
    assert version == sync_code_version()
    assert len(version.removesuffix("+changed")) == 12
    assert sync_code_version(("consent-mapper",)) != sync_code_version(("sandbox",))
    assert sync_code_version(SYNC_CODE[:-1]) != version.removesuffix("+changed")


def test_an_uncommitted_change_to_the_sync_code_is_named():
    probe = ROOT / "consent-mapper" / ".chaos-version-probe"
    in_tests = ROOT / "consent-mapper" / "tests" / ".chaos-version-probe"
    untracked = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", str(probe)],
                               check=False).returncode != 0
    before = sync_code_version(("consent-mapper",))
    in_tests.write_text("x")
    try:  # a test is not the code under test
        assert sync_code_version(("consent-mapper",)) == before
    finally:
        in_tests.unlink()
    probe.write_text("x")
    try:
        assert sync_code_version(("consent-mapper",)).endswith("+changed") is untracked
    finally:
        probe.unlink()
