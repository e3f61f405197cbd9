"""A world starts as a deployed project does: its Meltano system database exists, migrated,
before the first sync (which the chaos suite may kill)."""

from __future__ import annotations

import sqlite3
from importlib.resources import files
from pathlib import Path

from chaos.world import ROOT, _create_system_database
from consent_sandbox.testing import MeltanoProject, running_sandbox


def test_the_system_database_is_migrated_before_the_first_sync(tmp_path: Path):
    with running_sandbox(tmp_path / "sandbox") as sandbox:
        project = MeltanoProject(sandbox, tmp_path, ROOT)
        assert not (tmp_path / "meltano.db").exists()
        _create_system_database(project)
    with sqlite3.connect(tmp_path / "meltano.db") as db:
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    head = files("meltano") / "migrations" / "db.lock"  # the revision Meltano migrates to
    assert revision == head.read_text().strip()
    assert {"state", "plugin_settings"} <= tables
