"""Writes in sObject Collections calls; records that failed for a passing reason are retried."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consentsync_salesforce import RetryPolicy

from .errors import SalesforceCallError
from .results import RecordFailure, classify_results, failure_for
from .writes import COLLECTION_LIMIT, Write, chunks

Send = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class WriteReport:
    written: int = 0
    calls: int = 0
    failures: list[RecordFailure] = field(default_factory=list)


def write_all(send: Send, writes: list[Write], *, max_retries: int, base_delay: float,
              logger: logging.Logger, sleep: Callable[[float], None] = time.sleep,
              chunk_size: int = COLLECTION_LIMIT) -> WriteReport:
    """Write every record, `chunk_size` a call (200: sObject Collections); final rejections
    are reported, not raised."""
    report = WriteReport()
    policy = RetryPolicy(max_retries=max_retries, base_delay=base_delay)
    for chunk in chunks(writes, chunk_size):
        pending, attempt = chunk, 0
        while pending:
            results = send([w.body() for w in pending])
            report.calls += 1
            try:
                classified = classify_results(pending, results)
            except ValueError as exc:
                raise SalesforceCallError(f"Unreadable sObject Collections answer: {exc}") from exc
            report.written += len(classified.written)
            report.failures.extend(classified.failed)
            if not classified.retriable:
                break
            if attempt >= max_retries:
                note = f" (still failing after {max_retries} retries)"
                report.failures.extend(failure_for(w, r, note) for w, r in classified.retriable)
                break
            delay = policy.delay(attempt)
            logger.warning("%d %s records could not be written yet (%s); retry %d of %d in "
                           "%.1fs", len(classified.retriable), pending[0].sobject,
                           ", ".join(sorted({failure_for(w, r).code
                                             for w, r in classified.retriable})),
                           attempt + 1, max_retries, delay)
            sleep(delay)
            attempt += 1
            pending = [w for w, _ in classified.retriable]
    return report
