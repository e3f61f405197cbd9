"""ScanMemory: what one scan leaves for the next, and what the next one emits from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tap_autopilot.scan_memory import ScanMemory

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def scan(state: dict, started: datetime, versions: dict[str, datetime]) -> list[str]:
    """One scan over `versions`; the contact ids emitted; `state` updated as the tap does."""
    memory = ScanMemory(state, started, margin_seconds=300)
    emitted = []
    for contact_id, updated_at in versions.items():
        memory.observe(contact_id, updated_at)
        if not memory.known or memory.decide(contact_id, updated_at, {"contact_id": contact_id}):
            emitted.append(contact_id)
    emitted += [r["contact_id"] for r in memory.held_back_to_emit()]
    memory.leave(state)
    return sorted(emitted)


def test_an_unchanged_window_is_not_emitted_again_and_state_stays_small():
    versions = {f"person_{i}": T0 - timedelta(seconds=i % 200) for i in range(5000)}
    state: dict = {}
    assert len(scan(state, T0, versions)) == 5000
    assert scan(state, T0 + timedelta(minutes=1), versions) == []
    assert len(json.dumps(state)) < 2_000


def test_a_late_version_and_a_contact_changed_again_are_emitted():
    versions = {f"person_{i}": T0 - timedelta(seconds=i) for i in range(1000)}
    state: dict = {}
    scan(state, T0, versions)
    late = {**versions, "person_late": T0 - timedelta(seconds=100)}  # stamped inside the window
    late["person_7"] = T0 + timedelta(seconds=30)  # changed after the scan
    emitted = scan(state, T0 + timedelta(minutes=1), late)
    assert {"person_late", "person_7"} <= set(emitted)
    assert len(emitted) < 60  # their buckets only, of 128


def test_versions_before_the_window_are_settled():
    old = {f"person_{i}": T0 - timedelta(days=3) for i in range(300)}  # all share one instant
    state: dict = {}
    scan(state, T0, old)
    assert scan(state, T0 + timedelta(minutes=1), old) == []
    assert scan(state, T0 + timedelta(minutes=2), {**old, "person_new": T0}) == ["person_new"]
