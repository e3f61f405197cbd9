"""A run's scratch database: on disk (bounded memory), gone when the process is, however it ends.

SQLite's own temporary database (the empty file name) spills to a file that the OS unlinks as
soon as it is opened, so a mapper killed mid-run (kill -9, a crash) leaves nothing behind; a
named temporary file would stay in the temp folder at every such kill, as large as the run.
"""

from __future__ import annotations

import sqlite3


def open_scratch() -> sqlite3.Connection:
    db = sqlite3.connect("")
    db.execute("PRAGMA journal_mode=OFF")  # scratch data: a crash replays the run
    db.execute("PRAGMA synchronous=OFF")
    return db
