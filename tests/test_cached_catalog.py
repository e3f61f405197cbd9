"""Meltano caches each tap's catalog (as for a user's install from PyPI): a later run starts no
discovery process, and still sees what Salesforce's Field-Level Security shows now."""

from __future__ import annotations

JOB = "salesforce-to-autopilot"
DISCOVERY = "Running catalog discovery"


def test_a_later_run_reuses_the_catalog_and_still_stops_on_a_hidden_opt_out(sandbox, meltano):
    sandbox.admin("salesforce", "POST", "/records/Lead",
                  json=[{"LastName": "A", "Company": "C", "Email": "a@x.io"}])
    first = meltano.run(JOB)
    assert DISCOVERY in first.stdout + first.stderr
    second = meltano.run(JOB)
    assert DISCOVERY not in second.stdout + second.stderr

    sandbox.admin("salesforce", "POST", "/fls",
                  json={"object": "Lead", "field": "HasOptedOutOfEmail", "access": "hidden"})
    third = meltano.run(JOB, check=False)
    output = third.stdout + third.stderr
    assert DISCOVERY not in output  # the cached catalog: the sync's own describe stops it
    assert third.returncode != 0
    assert "Lead.HasOptedOutOfEmail" in output and "Field Accessibility" in output
