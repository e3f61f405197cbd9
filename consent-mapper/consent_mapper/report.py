"""Counts of one run and the skipped records, for the end-of-run summary (R10)."""

from __future__ import annotations

from collections import Counter, defaultdict

from consent_mapper.rules import Skip, SkipReason

# records without a usable address are each named by a warning of their own as they are read,
# and the summary lists the first hundred; the structural skips (converted Leads, business
# Accounts...) are only sampled. One summary line names a bounded number: listing a big org's
# address-less Leads in full made one line of megabytes, held in memory all run, and Meltano
# fails a run on a log line over half its `elt.buffer_size`
ADDRESS_SKIPS = frozenset({SkipReason.NO_EMAIL, SkipReason.INVALID_EMAIL})
SAMPLE = 20
ADDRESS_SAMPLE = 100


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
        if len(listed) < (ADDRESS_SAMPLE if skip.reason in ADDRESS_SKIPS else SAMPLE):
            label = f"{skip.source.object} {skip.source.record_id}"
            listed.append(f"{label} ({skip.detail})" if skip.detail else label)

    def summary(self) -> list[str]:
        """Log lines: the counts, then one line per skip reason with the records."""
        counts = ", ".join(f"{name}={n}" for name, n in sorted(self.counts.items()))
        lines = [f"summary: {counts or 'nothing read'}; skipped={sum(self.skips.values())}"]
        for reason, n in sorted(self.skips.items()):
            listed = self.skipped[reason]
            more = ""
            if n > len(listed):
                more = f" and {n - len(listed)} more" + (
                    " (each named in its R10 warning)" if reason in ADDRESS_SKIPS else "")
            lines.append(f"skipped {reason.value}: {n}: {'; '.join(listed)}{more}")
        return lines
