"""Reading sObject Collections results one record at a time: written, retry, or rejected."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .writes import Write

# Transient per-record errors: the same record sent again a little later usually goes through.
RETRIABLE_ERROR_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                   "UNPROCESSED_RECORD"})


@dataclass(frozen=True)
class RecordFailure:
    """A record Salesforce refused for good, with everything needed to fix it."""

    sobject: str
    target: str
    origins: tuple[str, ...]
    code: str
    message: str
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f" on {', '.join(self.fields)}" if self.fields else ""
        origin = f" (from {'; '.join(self.origins)})" if self.origins else ""
        return f"{self.sobject} {self.target}{origin}: {self.code}{where}: {self.message}"


@dataclass
class Classified:
    written: list[tuple[Write, Mapping[str, Any]]] = field(default_factory=list)
    retriable: list[tuple[Write, Mapping[str, Any]]] = field(default_factory=list)
    failed: list[RecordFailure] = field(default_factory=list)


def result_errors(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(result.get("errors") or [])


def error_code(error: Mapping[str, Any]) -> str:
    # per-record errors say statusCode, top-level ones errorCode
    return str(error.get("statusCode") or error.get("errorCode") or "UNKNOWN_ERROR")


def is_retriable(result: Mapping[str, Any]) -> bool:
    errors = result_errors(result)
    return bool(errors) and all(error_code(e) in RETRIABLE_ERROR_CODES for e in errors)


def failure_for(write: Write, result: Mapping[str, Any], note: str = "") -> RecordFailure:
    errors = result_errors(result) or [{"statusCode": "UNKNOWN_ERROR",
                                        "message": "Salesforce reported no reason"}]
    codes = dict.fromkeys(error_code(e) for e in errors)
    fields = dict.fromkeys(f for e in errors for f in (e.get("fields") or []))
    message = "; ".join(str(e.get("message") or "") for e in errors) + note
    return RecordFailure(
        sobject=write.sobject,
        target=str(result.get("id") or write.target),
        origins=tuple(write.origins),
        code=", ".join(codes),
        message=message,
        fields=tuple(fields),
    )


def classify_results(sent: Sequence[Write], results: Sequence[Mapping[str, Any]]) -> Classified:
    """Pair each sent record with its result (same order) and sort them."""
    if len(results) != len(sent):
        raise ValueError(
            f"Salesforce answered {len(results)} results for {len(sent)} records sent")
    classified = Classified()
    for write, result in zip(sent, results, strict=True):
        if result.get("success"):
            classified.written.append((write, result))
        elif is_retriable(result):
            classified.retriable.append((write, result))
        else:
            classified.failed.append(failure_for(write, result))
    return classified
