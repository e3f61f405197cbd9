"""Records refused for good during a run, and the summary that ends it."""

from __future__ import annotations

from .results import RecordFailure

SUMMARY_LINES = 50


class FailureLog:
    def __init__(self) -> None:
        self.failures: list[RecordFailure] = []

    def add(self, failure: RecordFailure) -> None:
        self.failures.append(failure)

    def __bool__(self) -> bool:
        return bool(self.failures)

    def __len__(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        count = len(self.failures)
        lines = [f"{count} record{'s' if count != 1 else ''} could not be written to Salesforce "
                 "(every other record was written; the state was not advanced, so the next run "
                 "sends them again):"]
        lines += [f"  - {failure}" for failure in self.failures[:SUMMARY_LINES]]
        if count > SUMMARY_LINES:
            lines.append(f"  ... and {count - SUMMARY_LINES} more (each logged above)")
        return "\n".join(lines)
