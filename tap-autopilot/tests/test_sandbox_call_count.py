"""Autopilot calls per 10,000 contacts scanned: one page call per 100 (the floor is 100)."""

from __future__ import annotations


def test_10000_contacts_cost_100_calls(sandbox, admin, tmp_path, run_tap, tap_config):
    rows = [{"Email": f"c{i:05d}@volume.example", "updated_at": 1700000000000 + i}
            for i in range(10_000)]
    for start in range(0, len(rows), 2_000):
        admin(sandbox, "POST", "/contacts", json=rows[start:start + 2_000])
    admin(sandbox, "DELETE", "/calls")
    run = run_tap(tmp_path, tap_config(sandbox))
    assert len(run.records["contacts"]) == 10_000
    calls = admin(sandbox, "GET", "/calls").json()
    assert calls["total"] == 100, calls
    assert calls["writes"] == 0
