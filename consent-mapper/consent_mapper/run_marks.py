"""Which run's output the target is known to have written, carried in Singer STATE.

The mapper puts its run id in the STATE it passes on (a bookmark of a stream the tap does not
have); the target emits that STATE, and Meltano stores it, only after every record before it
was written. The tap passes on the state it was given, so the next run of the same job reads
back the newest run whose output landed. A run that died after the ledger committed, or whose
target failed, leaves the older mark: what it sent is sent again (Tasks, deletions).
"""

from __future__ import annotations

STATE_STREAM, STATE_RUN = "consent_mapper", "written_run"
# earlier releases marked runs only with the activity feed on, under this name
LEGACY_STREAM = "consent_mapper_activities"


def written_run(state: object) -> int | None:
    """The run id a tap's STATE carries back, if any."""
    bookmarks = state.get("bookmarks") if isinstance(state, dict) else None
    if not isinstance(bookmarks, dict):
        return None
    for stream in (STATE_STREAM, LEGACY_STREAM):
        mark = bookmarks.get(stream)
        value = mark.get(STATE_RUN) if isinstance(mark, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def mark(state: dict, run_id: int) -> dict:
    """The state to pass on: this run's id, for the next run to know it was written."""
    bookmarks = {k: v for k, v in (state.get("bookmarks") or {}).items() if k != LEGACY_STREAM}
    bookmarks[STATE_STREAM] = {STATE_RUN: run_id}
    return {**state, "bookmarks": bookmarks}
