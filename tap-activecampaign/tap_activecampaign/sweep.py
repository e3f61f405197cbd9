"""The ids of contacts unsubscribed or bounced on each list, kept compactly in the state.

A list-status change need not move the contact's `udate` (ActiveCampaign does not document
it), so `filters[updated_after]` alone could miss an unsubscribe. Each run reads who is
unsubscribed (2) or bounced (3) on every list and compares it with the previous run: a contact
that entered or left one of these sets changed its list status. The sets are kept as
delta-encoded, zlib-compressed, base64 ids: a few bytes per opted-out contact.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable

SWEPT_STATUSES = (2, 3)


def encode(ids: Iterable[int]) -> str:
    out, previous = bytearray(), 0
    for ident in sorted(set(ids)):
        delta, previous = ident - previous, ident
        while True:
            byte, delta = delta & 0x7F, delta >> 7
            out.append(byte | (0x80 if delta else 0))
            if not delta:
                break
    return base64.b64encode(zlib.compress(bytes(out), 9)).decode("ascii")


def decode(text: str) -> set[int]:
    raw = zlib.decompress(base64.b64decode(text))
    ids, current, value, shift = set(), 0, 0, 0
    for byte in raw:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            current += value
            ids.add(current)
            value, shift = 0, 0
    return ids


def changed_ids(before: dict[str, str] | None, now: dict[str, set[int]]) -> set[int] | None:
    """Contacts that entered or left a (list, status) set; None when there is no earlier sweep
    (every swept contact then counts as changed)."""
    if before is None:
        return None
    changed: set[int] = set()
    for key in set(before) | set(now):
        old = decode(before[key]) if key in before else set()
        changed |= old ^ now.get(key, set())
    return changed
