"""The `ledger_url` setting, checked when the mapper starts, before it reads a single message.

- A URL that cannot work (unparseable, an in-memory database, a folder that cannot be written,
  a missing driver, a server that refuses) stops the run at once, naming the setting.
- A ledger with no finished run is new. That is right on a project's first run, and wrong when
  the project has run before: a typo in ledger_url would treat every person as new. The sign of
  an earlier run is the tap's own state: singer-sdk taps send the state Meltano gave them as
  their first message, before any record, and Meltano's state backend is the same for every
  machine of a team (a marker file under `.meltano/` would be one machine's memory only). So a
  new ledger plus bookmarks in that first STATE stops the run, before any decision is made.
  A new ledger on purpose goes with a full re-read: `meltano run --full-refresh ...` (the tap
  then gets no state) once, or `meltano state clear <state id>`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from consent_mapper.ledger.schema import runs
from consent_mapper.ledger.store import Ledger

EXAMPLES = ("sqlite:////absolute/path/consent-ledger.db or "
            "postgresql+psycopg://user:password@host/database")
POSTGRES_EXTRA = ("install the mapper with its PostgreSQL extra (pip_url: "
                  "consentsync-consent-mapper[postgresql]; then `meltano install mapper "
                  "consent-mapper`)")


class LedgerUrlError(ValueError):
    """ledger_url cannot be used; the message names the setting and the fix."""


@dataclass(frozen=True)
class LedgerCheck:
    shown: str  # the URL with its password hidden, for messages
    fresh: bool  # no run of either direction has finished on this ledger
    # open and migrated, for the run to decide on; None: a SQLite file the run creates
    ledger: Ledger | None = field(default=None, compare=False)


def shown(url: str) -> str:
    """The URL fit for a log line: its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("://", 1)[0] + "://..." if "@" in url else url


def parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerUrlError(f"ledger_url {shown(url)!r} is not a database URL: use "
                             f"{EXAMPLES}") from None
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise LedgerUrlError(f"ledger_url: {parsed.drivername!r} is no database SQLAlchemy "
                             f"knows: use {EXAMPLES}") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        fix = POSTGRES_EXTRA if parsed.get_backend_name() == "postgresql" else (
            f"install the Python package that provides {exc.name!r} in the mapper's venv")
        raise LedgerUrlError(f"ledger_url uses {parsed.drivername}, whose driver "
                             f"({exc.name}) is not installed: {fix}") from None
    return parsed


def check_sqlite_path(parsed: URL) -> None:
    database = parsed.database
    if database in (None, "", ":memory:"):
        raise LedgerUrlError("ledger_url is an in-memory SQLite database, which forgets every "
                             f"decision when the run ends: name a file, e.g. {EXAMPLES}")
    path = Path(database).expanduser()
    existing = next(p for p in (path, *path.parents) if p.exists())
    if existing == path and not path.is_file():
        raise LedgerUrlError(f"ledger_url names {str(path)!r}, which is not a file: name the "
                             "ledger's file (e.g. .meltano/consent-ledger.db)")
    if existing != path and not existing.is_dir():
        raise LedgerUrlError(f"ledger_url names {str(path)!r}, but {str(existing)!r} is a file, "
                             "not a folder: give ledger_url a writable place")
    if not os.access(existing, os.W_OK):
        what = "the file" if existing == path else f"the folder {str(existing)!r}"
        raise LedgerUrlError(f"ledger_url names {str(path)!r}, but {what} cannot be written "
                             "by this user: give ledger_url a writable place")
    if existing != path:  # the run creates the file when it commits: make sure it can
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path.parent, prefix=".consent-ledger-probe-"):
                pass
        except OSError as exc:
            raise LedgerUrlError(f"ledger_url names {str(path)!r}, but its folder cannot be "
                                 f"created or written ({exc.strerror}): give ledger_url a "
                                 "writable place") from None


def open_checked(url: str) -> LedgerCheck:
    """Open (and migrate) the ledger, kept open for the run, or raise LedgerUrlError naming the
    setting."""
    parsed = parse(url)
    if parsed.get_backend_name() == "sqlite":
        check_sqlite_path(parsed)
        if not Path(str(parsed.database)).expanduser().exists():
            return LedgerCheck(shown(url), fresh=True)  # created when the run commits
    try:
        ledger = Ledger(url)
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise LedgerUrlError(f"ledger_url {shown(url)!r}: the ledger cannot be opened "
                             f"({type(exc).__name__}: {reason}): check the URL, the server "
                             "and the user's rights") from None
    with ledger.engine.connect() as connection:
        fresh = connection.execute(
            select(runs.c.id).where(runs.c.finished_at.is_not(None)).limit(1)
        ).first() is None
    return LedgerCheck(shown(url), fresh, ledger)


def has_bookmarks(state: object) -> bool:
    """Whether a tap's state holds what an earlier run left (more than progress markers)."""
    if not isinstance(state, Mapping):
        return False
    bookmarks = state.get("bookmarks")
    if not isinstance(bookmarks, Mapping):  # a tap with its own state shape
        return any(value not in (None, "", [], {}) for value in state.values())
    transient = {"progress_markers", "starting_replication_value"}
    return any(set(b) - transient if isinstance(b, Mapping) else b not in (None, "", [])
               for b in bookmarks.values())


def fresh_ledger_message(check: LedgerCheck) -> str:
    return (f"ledger_url {check.shown!r} names a new, empty consent ledger, but the tap's "
            "state shows this pipeline has run before: a wrong ledger_url (a typo, another "
            "machine's file) would treat every person as new. Set ledger_url to the ledger "
            "earlier runs used (to move it, copy it first: `consent-ledger --ledger-url <old> "
            "copy --to <new>`); to start a new ledger on purpose, run once with "
            "`meltano run --full-refresh ...` (or `meltano state clear <state id>`) so the "
            "tap reads everything again")
