"""The packages of the workspace (the members of the root pyproject.toml) and their [project]."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = "https://github.com/consentsync/consentsync"


def workspace_members() -> list[str]:
    """The folders of the workspace packages, as [tool.uv.workspace] lists them."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["tool"]["uv"]["workspace"]["members"])


def project_table(member: str) -> dict[str, Any]:
    with (ROOT / member / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]


def dist_name(member: str) -> str:
    """The distribution's file-name stem, as in `consentsync_tap_autopilot-0.1.0`."""
    project = project_table(member)
    return f"{project['name'].replace('-', '_')}-{project['version']}"
