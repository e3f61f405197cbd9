"""`--demo-systems`: demo data in some stand-ins only, as a project looks before its first sync."""

from __future__ import annotations

import subprocess
import sys

from consent_sandbox.testing import running_sandbox


def test_demo_data_in_salesforce_alone_leaves_the_marketing_platforms_empty(tmp_path):
    with running_sandbox(tmp_path, "--demo-size", "40", "--demo-systems", "salesforce") as sbx:
        leads = sbx.admin("salesforce", "GET", "/records/Lead").json()
        assert len(leads) > 10
        assert sbx.admin("autopilot", "GET", "/contacts").json() == []
        assert sbx.admin("activecampaign", "GET", "/contacts").json() == []


def test_an_unknown_demo_system_is_refused_with_the_names_to_choose_from(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "consent_sandbox.cli", "serve", "--state-dir", str(tmp_path),
         "--demo-size", "5", "--demo-systems", "salesforce,hubspot"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "unknown hubspot" in result.stderr
    assert "salesforce, autopilot, activecampaign" in result.stderr
