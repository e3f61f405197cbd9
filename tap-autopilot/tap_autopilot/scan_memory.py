"""What a full scan of the contacts remembers for the next one, in about 1.5 KB of STATE.

Autopilot has no "changed since" filter, so every scan reads every contact, and `updated_at`
may be stamped a little before the change can be read (queued writes, clock skew). A scan that
started at `s` has therefore surely seen every version stamped before `W = s - margin`; versions
stamped from `W` on may have become readable only after their page was read. The next scan:

- emits a version stamped after `U`, the newest stamp the last scan saw (new since);
- skips a version stamped before `W` (the last scan saw and emitted it);
- holds back a version stamped in `[W, U]`, the window, until the end of the scan: the last
  scan left, for each of 128 buckets of contact ids, the sum of a 64-bit hash of every
  (contact_id, updated_at) it saw in the window. A bucket whose sum comes out the same holds
  exactly the versions already emitted, and is skipped; the versions of any other bucket (one
  that became readable late, or a contact changed or deleted since) are emitted.

So nothing stamped late is lost, contacts sharing the bookmark's instant are not re-processed,
and a quiet run right after a mass update emits nothing, whatever the data. Held-back versions
wait in a temporary file, not in memory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, Any

from .timestamps import format_timestamp, parse_timestamp

BUCKETS = 128
MASK = (1 << 64) - 1
WINDOW_START, MAX_SEEN, DIGEST = "scan_window_start", "scan_max_seen", "scan_window_digest"


def _bucket(contact_id: str) -> int:
    return hashlib.blake2b(contact_id.encode(), digest_size=2).digest()[0] % BUCKETS


def _version(contact_id: str, updated_at: datetime) -> int:
    text = f"{contact_id}\x00{format_timestamp(updated_at)}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _pack(sums: list[int]) -> str | None:
    if not any(sums):
        return None
    return base64.b64encode(struct.pack(f">{BUCKETS}Q", *sums)).decode()


def _unpack(text: object) -> list[int]:
    if not isinstance(text, str):
        return [0] * BUCKETS
    return list(struct.unpack(f">{BUCKETS}Q", base64.b64decode(text)))


class ScanMemory:
    """One scan's decisions from the last scan's memory, and the memory it leaves."""

    def __init__(self, state: dict, started_at: datetime, margin_seconds: float) -> None:
        start, seen = state.get(WINDOW_START), state.get(MAX_SEEN)
        self.known = bool(start and seen)  # False: a first scan, or state of an older version
        self.window_start = parse_timestamp(start) if self.known else None
        self.max_seen = parse_timestamp(seen) if self.known else None
        self.previous = _unpack(state.get(DIGEST))
        # what this scan leaves for the next
        self.next_window_start = started_at - timedelta(seconds=margin_seconds)
        self.next_max_seen: datetime | None = None
        self.next_sums = [0] * BUCKETS
        # versions held back, by bucket, until every page is read
        self.held_sums = [0] * BUCKETS
        self._spool: IO[bytes] | None = None
        self.held = 0
        self.re_emitted = 0

    def observe(self, contact_id: str, updated_at: datetime) -> None:
        """Every version this scan reads, emitted or not."""
        if self.next_max_seen is None or updated_at > self.next_max_seen:
            self.next_max_seen = updated_at
        if updated_at >= self.next_window_start:
            b = _bucket(contact_id)
            self.next_sums[b] = (self.next_sums[b] + _version(contact_id, updated_at)) & MASK

    def decide(self, contact_id: str, updated_at: datetime, record: dict) -> bool:
        """True: emit now. False: skipped, or held back (emitted at the end if its bucket
        shows a version the last scan did not see)."""
        assert self.window_start is not None and self.max_seen is not None
        if updated_at > self.max_seen:
            return True
        if updated_at < self.window_start:
            return False
        b = _bucket(contact_id)
        self.held_sums[b] = (self.held_sums[b] + _version(contact_id, updated_at)) & MASK
        if self._spool is None:
            self._spool = tempfile.TemporaryFile("w+b")  # noqa: SIM115
        # json.dumps escapes newlines and every non-ASCII character: one line per record
        self._spool.write(f"{b}\t{json.dumps(record)}\n".encode("ascii"))
        self.held += 1
        return False

    def held_back_to_emit(self) -> Iterator[dict[str, Any]]:
        """After the last page: the held-back versions of every bucket that changed."""
        if self._spool is None:
            return
        changed = {b for b in range(BUCKETS) if self.held_sums[b] != self.previous[b]}
        self._spool.flush()
        self._spool.seek(0)
        for line in self._spool:
            bucket, _, record = line.decode("ascii").partition("\t")
            if int(bucket) in changed:
                self.re_emitted += 1
                yield json.loads(record)
        self._spool.close()
        self._spool = None

    def leave(self, state: dict) -> None:
        """Written into the stream's state once the whole scan was read and emitted."""
        if self.next_max_seen is None:  # no contact at all
            self.next_max_seen = self.next_window_start - timedelta(microseconds=1)
        state[WINDOW_START] = format_timestamp(self.next_window_start)
        state[MAX_SEEN] = format_timestamp(self.next_max_seen)
        state[DIGEST] = _pack(self.next_sums)
