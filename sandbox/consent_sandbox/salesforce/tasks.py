"""What Salesforce derives on a Task: IsClosed follows the Status (a closed status)."""

from __future__ import annotations

from .schema import CLOSED_TASK_STATUSES


def derived(obj: str, row: dict) -> dict:
    """Read-only values Salesforce computes from the row being written (none for non-Tasks)."""
    if obj != "Task":
        return {}
    return {"IsClosed": int(row.get("Status") in CLOSED_TASK_STATUSES)}
