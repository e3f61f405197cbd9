"""Progress of long work in the log: done/total, rate, ETA, every N items or seconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """`advance(n)` after each piece of work; a line at most every `every_seconds` seconds or
    `every_items` items (whichever comes first), and `done()` at the end."""

    def __init__(self, logger: logging.Logger, what: str, total: int | None = None,
                 every_items: int = 10_000, every_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.what = what
        self.total = total
        self.every_items = every_items
        self.every_seconds = every_seconds
        self._clock = clock
        self.started = clock()
        self.count = 0
        self._last_at = self.started
        self._last_count = 0

    def advance(self, n: int = 1) -> None:
        self.count += n
        now = self._clock()
        if (self.count - self._last_count >= self.every_items
                or now - self._last_at >= self.every_seconds):
            self._last_at, self._last_count = now, self.count
            self.logger.info("%s", self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = max(1e-9, (self._clock() if now is None else now) - self.started)
        rate = self.count / elapsed
        if self.total:
            shown = min(self.count, self.total)
            text = f"{self.what}: {shown:,}/{self.total:,} ({100 * shown / self.total:.0f}%)"
        else:
            text = f"{self.what}: {self.count:,}"
        text += f", {rate:,.1f}/s"
        if self.total and rate > 0 and self.count < self.total:
            text += f", ETA {_duration((self.total - self.count) / rate)}"
        return text

    def done(self) -> None:
        elapsed = self._clock() - self.started
        self.logger.info("%s: %s in %s", self.what, f"{self.count:,} done", _duration(elapsed))
