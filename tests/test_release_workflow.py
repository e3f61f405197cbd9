"""The forge's workflows: CI runs `.ci/run`; a tag builds every workspace package (a new one
cannot be forgotten) and publishes to PyPI with trusted publishing, never with a stored token."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .workspace_members import REPOSITORY, ROOT, project_table, workspace_members

WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as true
    loaded["on"] = loaded.pop(True, loaded.get("on"))
    return loaded


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["steps"]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in steps(job) if "uses" in step]


@pytest.fixture(scope="module")
def release() -> dict[str, Any]:
    return workflow("release.yml")


def test_release_runs_on_version_tags_only(release):
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {"contents": "read"}


def test_release_builds_every_workspace_member(release):
    build = release["jobs"]["build"]
    assert sorted(build["strategy"]["matrix"]["package"]) == sorted(workspace_members())
    assert build["env"]["PACKAGE"] == "${{ matrix.package }}"
    assert 'uv build --out-dir dist "$PACKAGE"' in runs(build)
    assert "twine check --strict dist/*" in runs(build)
    assert '"v$version" != "$GITHUB_REF_NAME"' in runs(build)
    assert any(u.startswith("astral-sh/setup-uv@") for u in uses(build))
    uploads = [s for s in steps(build) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads and uploads[0]["with"]["name"] == "dist-${{ matrix.package }}"


def test_release_publishes_after_the_tests_with_trusted_publishing(release):
    jobs = release["jobs"]
    assert jobs["build"]["needs"] == "test"
    assert "bash .ci/run" in runs(jobs["test"])
    publish = jobs["publish"]
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    downloads = [s for s in steps(publish) if s["uses"].startswith("actions/download-artifact@")]
    assert downloads[0]["with"]["pattern"] == "dist-*" and downloads[0]["with"]["merge-multiple"]
    uploads = [s for s in steps(publish) if s["uses"].startswith("pypa/gh-action-pypi-publish@")]
    assert len(uploads) == 1
    # trusted publishing: no password or token input, and a re-run finishes a partial upload
    assert set(uploads[0]["with"]) == {"packages-dir", "skip-existing"}
    assert uploads[0]["with"]["skip-existing"] is True
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text()


def test_release_notes_are_the_changelog_of_every_package(release):
    forge = release["jobs"]["forge-release"]
    assert forge["needs"] == "publish" and forge["permissions"] == {"contents": "write"}
    assert 'gh release create "$GITHUB_REF_NAME"' in runs(forge)
    for member in workspace_members():
        urls = project_table(member)["urls"]
        assert urls["Changelog"] == f"{REPOSITORY}/releases", member


def test_ci_runs_the_projects_ci_script():
    ci = workflow("ci.yml")
    assert set(ci["on"]) == {"push", "pull_request"}
    assert "bash .ci/run" in runs(ci["jobs"]["test"])
