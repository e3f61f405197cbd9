"""A Meltano project of its own for the trivial pipeline, in a temporary folder.

No install: each plugin's executable is a two-line script run by this interpreter (the
workspace venv, which has singer-sdk), so Meltano starts it as it starts any installed plugin.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JOB = "trivial-pipeline"
# two such pipelines in one job, as consent-sync runs one per direction: the floor of its start-up
JOB_TWO_WAY = "trivial-two-way"
PLUGINS = {  # name -> (kind, module, class)
    "tap-trivial": ("extractors", "tap", "TrivialTap"),
    "mapper-trivial": ("mappers", "mapper", "PassThroughMapper"),
    "target-trivial": ("loaders", "target", "TrivialTarget"),
}


def _script(bin_dir: Path, name: str, module: str, cls: str) -> Path:
    path = bin_dir / name
    path.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                    f"from benchmarks.trivial_pipeline.{module} import {cls}\n{cls}.cli()\n")
    path.chmod(0o755)
    return path


def write_project(folder: Path) -> Path:
    """meltano.yml with the three plugins, the job `trivial-pipeline` and `trivial-two-way` (that
    pipeline twice, each with a tap and target of its own); returns the folder."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    lines = ["send_anonymous_usage_stats: false", "project_id: trivial-pipeline",
             "default_environment: bench", "environments:", "- name: bench", "plugins:"]
    for kind in ("extractors", "mappers", "loaders"):
        lines.append(f"  {kind}:")
        for name, (plugin_kind, module, cls) in PLUGINS.items():
            if plugin_kind != kind:
                continue
            lines += [f"  - name: {name}", f"    namespace: {name.replace('-', '_')}",
                      f"    executable: {_script(bin_dir, name, module, cls)}"]
            if name == "tap-trivial":
                lines.append("    settings:\n    - {name: record_count, kind: integer}")
            if kind == "mappers":
                lines.append("    mappings:\n    - name: pass-through")
            if kind in ("extractors", "loaders"):  # the second pipeline's own plugin
                lines += [f"  - name: {name}-back", f"    inherit_from: {name}"]
    lines += ["jobs:", f"- name: {JOB}", "  tasks:",
              "  - tap-trivial pass-through target-trivial",
              f"- name: {JOB_TWO_WAY}", "  tasks:",
              "  - tap-trivial pass-through target-trivial",
              "  - tap-trivial-back pass-through target-trivial-back"]
    (folder / "meltano.yml").write_text("\n".join(lines) + "\n")
    return folder


def env(folder: Path, records: int) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))}
    environ.update({"MELTANO_DATABASE_URI": f"sqlite:///{folder / 'meltano.db'}",
                    "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                    "TAP_TRIVIAL_RECORD_COUNT": str(records)})
    return environ


def meltano() -> Path:
    return ROOT / ".venv" / "bin" / "meltano"
