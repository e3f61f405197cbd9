"""Counts of one run and the skipped records, for the end-of-run summary (R10)."""

from __future__ import annotations

from collections import Counter, defaultdict

from consent_mapper.rules import Skip, SkipReason

# records without a usable address are listed in full; the structural skips (converted Leads,
# business Accounts...) can be numerous and are only sampled
ALWAYS_LISTED = frozenset({SkipReason.NO_EMAIL, SkipReason.INVALID_EMAIL})
SAMPLE = 20


class RunReport:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.skips: Counter[SkipReason] = Counter()
        self.skipped: dict[SkipReason, list[str]] = defaultdict(list)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] += n

    def skip(self, skip: Skip) -> None:
        self.skips[skip.reason] += 1
        listed = self.skipped[skip.reason]
        if skip.reason in ALWAYS_LISTED or len(listed) < SAMPLE:
            label = f"{skip.source.object} {skip.source.record_id}"
            listed.append(f"{label} ({skip.detail})" if skip.detail else label)

    def summary(self) -> list[str]:
        """Log lines: the counts, then one line per skip reason with the records."""
        counts = ", ".join(f"{name}={n}" for name, n in sorted(self.counts.items()))
        lines = [f"summary: {counts or 'nothing read'}; skipped={sum(self.skips.values())}"]
        for reason, n in sorted(self.skips.items()):
            listed = self.skipped[reason]
            more = f" and {n - len(listed)} more" if n > len(listed) else ""
            lines.append(f"skipped {reason.value}: {n}: {'; '.join(listed)}{more}")
        return lines
