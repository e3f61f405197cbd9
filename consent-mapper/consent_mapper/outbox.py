"""The records one run decided to send, held on disk until the ledger has committed.

Records may not go out before the decisions behind them are durable (a crash in between would
leave writes the ledger never planned); holding a million of them in memory is not an option.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import Any


class Outbox:
    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile("w+", encoding="utf-8", prefix="consent-out-")
        self.count = 0
        self.streams: set[str] = set()

    def put(self, stream: str, record: dict[str, Any]) -> None:
        self.file.write(json.dumps([stream, record], separators=(",", ":")) + "\n")
        self.count += 1
        self.streams.add(stream)

    def drain(self) -> Iterator[tuple[str, dict[str, Any]]]:
        self.file.seek(0)
        for line in self.file:
            stream, record = json.loads(line)
            yield stream, record

    def close(self) -> None:
        self.file.close()
