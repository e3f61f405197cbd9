"""The sync code version names the committed files of the code under test, tests left out."""

from __future__ import annotations

import subprocess
from pathlib import Path

from chaos.code_version import sync_code_version

CODE = ("plugin", "meltano.yml")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@x.io",
                    *args], check=True, capture_output=True, timeout=60)


def repo(tmp_path: Path) -> Path:
    (tmp_path / "plugin" / "tests").mkdir(parents=True)
    (tmp_path / "plugin" / "code.py").write_text("a = 1\n")
    (tmp_path / "plugin" / "tests" / "test_code.py").write_text("x = 1\n")
    (tmp_path / "meltano.yml").write_text("plugins: {}\n")
    (tmp_path / "sandbox.py").write_text("s = 1\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    return tmp_path


def test_the_version_changes_with_the_code_and_not_with_tests_or_other_files(tmp_path):
    root = repo(tmp_path)
    first = sync_code_version(CODE, root)
    assert len(first) == 12 and first == sync_code_version(CODE, root)

    for path, text in (("plugin/tests/test_code.py", "x = 2\n"), ("sandbox.py", "s = 2\n")):
        (root / path).write_text(text)
        assert sync_code_version(CODE, root) == first  # uncommitted, and not code under test
        git(root, "commit", "-qam", "not code")
        assert sync_code_version(CODE, root) == first

    (root / "plugin" / "code.py").write_text("a = 2\n")
    assert sync_code_version(CODE, root) == first + "+changed"
    (root / "plugin" / "new.py").write_text("b = 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "code")
    second = sync_code_version(CODE, root)
    assert second != first and not second.endswith("+changed")


def test_this_checkout_has_a_version():
    assert len(sync_code_version().removesuffix("+changed")) == 12
