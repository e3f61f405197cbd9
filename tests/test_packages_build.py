"""Every workspace package is ready for PyPI: `uv build` makes its wheel and sdist, `twine check
--strict` passes them, each carries the LICENSE and its README as the long description, and the
README's links work from PyPI (absolute)."""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from uv import find_uv_bin

from .workspace_members import REPOSITORY, ROOT, dist_name, project_table, workspace_members

MEMBERS = workspace_members()
packaging = pytest.mark.xdist_group("packaging")
# [text](target) and reference definitions `[label]: target`
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)|^\s*\[[^\]]+\]:\s*<?(\S+?)>?\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # the uv of the dev group, as `make install` uses; the sdist first, the wheel built from it
    built = subprocess.run([find_uv_bin(), "build", "--all-packages", "--no-progress",
                            "--out-dir", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-4000:]
    return out


def metadata(text: str) -> Message:
    return email.message_from_string(text)


def wheel_metadata(dist: Path, member: str) -> tuple[Message, zipfile.ZipFile]:
    wheel = zipfile.ZipFile(dist / f"{dist_name(member)}-py3-none-any.whl")
    return metadata(wheel.read(f"{dist_name(member)}.dist-info/METADATA").decode()), wheel


def sdist_file(dist: Path, member: str, name: str) -> str:
    with tarfile.open(dist / f"{dist_name(member)}.tar.gz") as sdist:
        member_file = sdist.extractfile(f"{dist_name(member)}/{name}")
        assert member_file is not None, f"{name} missing from the sdist of {member}"
        return member_file.read().decode()


@packaging
def test_twine_check_strict_passes_every_wheel_and_sdist(dist: Path):
    files = sorted(dist.glob("*.whl")) + sorted(dist.glob("*.tar.gz"))
    assert {f.name for f in files} == {f"{dist_name(m)}{ext}" for m in MEMBERS
                                       for ext in ("-py3-none-any.whl", ".tar.gz")}
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
                             capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == len(files), checked.stdout


@packaging
@pytest.mark.parametrize("member", MEMBERS)
def test_wheel_and_sdist_carry_the_license_and_the_readme(dist: Path, member: str):
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0" in license_text
    readme = (ROOT / member / "README.md").read_text()

    meta, wheel = wheel_metadata(dist, member)
    assert wheel.read(f"{dist_name(member)}.dist-info/licenses/LICENSE").decode() == license_text
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().strip() == readme.strip()

    assert sdist_file(dist, member, "LICENSE") == license_text
    pkg_info = metadata(sdist_file(dist, member, "PKG-INFO"))
    assert pkg_info.get_payload().strip() == readme.strip()


@packaging
@pytest.mark.parametrize("member", MEMBERS)
def test_wheel_metadata_names_the_project(dist: Path, member: str):
    meta, _ = wheel_metadata(dist, member)
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL", []))
    assert urls["Homepage"] == f"{REPOSITORY}/tree/main/{member}"
    assert urls["Repository"] == REPOSITORY
    assert urls["Issues"] == f"{REPOSITORY}/issues"
    assert meta["Author"] == "consentsync contributors"
    assert meta["Summary"] and meta["Keywords"]
    classifiers = meta.get_all("Classifier", [])
    assert "Programming Language :: Python :: 3 :: Only" in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    # a license expression and a License :: classifier together are refused by PyPI
    assert not any(c.startswith("License :: ") for c in classifiers)


@pytest.mark.parametrize("member", MEMBERS)
def test_readme_links_are_absolute(member: str):
    """On PyPI a relative link points nowhere, and ../shared/ is not in the repository at all."""
    readme = (ROOT / member / "README.md").read_text()
    project = project_table(member)
    assert project["readme"] == "README.md"
    targets = [a or b for a, b in LINK.findall(readme)]
    relative = [t for t in targets if not re.match(r"(https?://|mailto:|#)", t)]
    assert relative == [], f"{member}/README.md: make these links absolute ({REPOSITORY}/...)"
    assert "shared/" not in "".join(targets), f"{member}/README.md links outside the repository"


def test_link_pattern_finds_relative_links():
    text = "see [a](../docs/x.md) and [b](https://e.io/y)\n[c]: docs/z.md\n"
    found = [a or b for a, b in LINK.findall(text)]
    assert found == ["../docs/x.md", "https://e.io/y", "docs/z.md"]


@packaging
def test_the_wheels_install_alone_and_import(dist: Path, tmp_path: Path):
    """Installed from the wheels only (no workspace, no editable source beside them), every
    package imports and every console script is there: nothing the wheels need is left behind."""
    venv = tmp_path / "venv"
    uv = find_uv_bin()
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    # the workspace's pins, so the wheels meet the dependency versions the tests ran with
    pins = tmp_path / "pins.txt"
    exported = subprocess.run([uv, "export", "--quiet", "--frozen", "--all-packages",
                               "--no-emit-workspace", "--no-hashes", "-o", str(pins)], cwd=ROOT,
                              capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr
    installed = subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python),
                                "--find-links", str(dist), "--constraint", str(pins),
                                *map(str, sorted(dist.glob("*.whl")))],
                               capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-4000:]
    modules = [package for member in MEMBERS for package in wheel_packages(member)]
    imported = subprocess.run([str(python), "-c", f"import {', '.join(modules)}"],
                              capture_output=True, text=True, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr[-4000:]
    for member in MEMBERS:
        for script in project_table(member).get("scripts", {}):
            assert (venv / "bin" / script).exists(), f"{member}: console script {script} missing"


def wheel_packages(member: str) -> list[str]:
    with (ROOT / member / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
