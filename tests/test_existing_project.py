"""The path of a data engineer with a Meltano project of their own (README "Add it to your Meltano
project"): a fresh `meltano init`, `meltano add --from-ref` of the Hub definitions in `hub/`, the
snippet of `docs/meltano-snippet.yml` pasted, `meltano config set`, `meltano install`, then
`meltano run` and the pasted schedule against the sandbox."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from consent_sandbox.testing import RunningSandbox, running_sandbox

ROOT = Path(__file__).resolve().parent.parent
HUB = ROOT / "hub"
SNIPPET = ROOT / "docs" / "meltano-snippet.yml"
BIN = ROOT / ".venv" / "bin"

# the Autopilot direction's plugins, in the README's order
AUTOPILOT_PLUGINS = (("extractor", "tap-salesforce-optout"), ("mapper", "consent-mapper"),
                     ("loader", "target-autopilot"), ("extractor", "tap-autopilot"),
                     ("loader", "target-salesforce"))
SALESFORCE_PLUGINS = ("tap-salesforce-optout", "target-salesforce")
AUTOPILOT_API_PLUGINS = ("tap-autopilot", "target-autopilot")

# `meltano <args>` for each command in one interpreter: Meltano's own CLI entry point, without
# paying its start-up (seconds on a loaded machine) for each of some twenty commands
MELTANO_COMMANDS = """
import json, sys
from meltano.cli import main
for argv in json.loads(sys.argv[1]):
    sys.argv = ["meltano", *argv]
    try:
        main()
    except SystemExit as stop:
        if stop.code not in (0, None):
            sys.exit(f"meltano {' '.join(argv)} failed ({stop.code})")
"""

existing_project = pytest.mark.xdist_group("existing-project")


def definition(plugin_type: str, name: str) -> Path:
    return HUB / f"{plugin_type}s" / f"{name}--consentsync.yml"


def snippet(platform: str) -> dict:
    """The snippet's document for ``platform`` ("autopilot" or "activecampaign")."""
    autopilot, activecampaign = yaml.safe_load_all(SNIPPET.read_text())
    return {"autopilot": autopilot, "activecampaign": activecampaign}[platform]


def workspace_packages() -> dict[str, tuple[Path, list[str]]]:
    """Every workspace package of this checkout: distribution name -> (folder, dependencies)."""
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    packages = {}
    for member in members["members"]:
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text())["project"]
        packages[project["name"]] = (ROOT / member, [
            Requirement(dep).name for dep in project.get("dependencies", [])])
    return packages


def local_pip_url(pip_url: str, source: Path) -> str:
    """The definition's PyPI names (not published yet) as copies of this checkout's folders, with
    the workspace libraries they depend on. Copies at a new path: uv caches the wheel it built of
    a folder by the folder's pyproject.toml, and would install code older than the checkout's."""
    packages, folders = workspace_packages(), []

    def add(name: str) -> None:
        folder, deps = packages[name]
        for dep in deps:
            if dep in packages:
                add(dep)
        if folder not in folders:
            folders.append(folder)

    for name in pip_url.split():
        add(name)
    copies = []
    for folder in folders:
        copy = source / folder.name
        if not copy.exists():
            shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(
                "tests", "__pycache__", ".venv", "*.egg-info", ".pytest_cache"))
        copies.append(str(copy))
    return " ".join(copies)


def user_env() -> dict[str, str]:
    """A shell of the user's: nothing of this checkout's Meltano project or plugin settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MELTANO_", "TAP_", "TARGET_", "CONSENT_MAPPER_"))
           and k != "VIRTUAL_ENV"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return env


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=user_env(), capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd[:4])} ... failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    return result


def meltano_commands(project: Path, commands: list[list[str]]) -> subprocess.CompletedProcess:
    return run([str(BIN / "python"), "-c", MELTANO_COMMANDS, json.dumps(commands)], project)


def settings(sandbox: RunningSandbox) -> list[list[str]]:
    """`meltano config set` of the sandbox's URLs, CA bundle and credentials, as for a real org."""
    sf, ap = sandbox.endpoints["salesforce"], sandbox.endpoints["autopilot"]
    values = {name: {"instance_url": sf["instance_url"], "login_url": sf["login_url"],
                     "client_id": sf["client_id"], "client_secret": sf["client_secret"],
                     "refresh_token": sf["refresh_token"], "ca_bundle": sandbox.ca_bundle}
              for name in SALESFORCE_PLUGINS}
    values |= {name: {"base_url": ap["base_url"], "api_key": ap["api_key"],
                      "ca_bundle": sandbox.ca_bundle} for name in AUTOPILOT_API_PLUGINS}
    return [["config", "set", plugin, key, value]
            for plugin, config in values.items() for key, value in config.items()]


def paste(meltano_yml: Path, piece: dict, pip_urls: dict[str, str]) -> None:
    """What the user does by hand: the snippet's mapper `config` and `mappings` into the mapper
    entry, its jobs and schedules at the top level; and (only because the packages are not on
    PyPI yet) every pip_url pointed at this checkout."""
    project = yaml.safe_load(meltano_yml.read_text())
    for plugins in project["plugins"].values():
        for plugin in plugins:
            plugin["pip_url"] = pip_urls[plugin["name"]]
    for pasted in piece["plugins"]["mappers"]:
        (entry,) = [p for p in project["plugins"]["mappers"] if p["name"] == pasted["name"]]
        entry.update({k: v for k, v in pasted.items() if k != "name"})
    for key in ("jobs", "schedules"):
        project.setdefault(key, []).extend(piece[key])
    meltano_yml.write_text(yaml.safe_dump(project, sort_keys=False))


@dataclass
class AdoptedProject:
    sandbox: RunningSandbox
    root: Path
    first_run: subprocess.CompletedProcess
    history: str  # `meltano invoke consent-mapper:history ada@x.io` after the second run

    def writes(self) -> dict[str, int]:
        return {api: self.sandbox.calls(api)["writes"] for api in ("salesforce", "autopilot")}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    # Autopilot's documented 5 requests a second, as the plugins' defaults expect
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture(scope="module")
def adopted(sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> AdoptedProject:
    """A fresh project that took the README's path, run once against a small seeded org."""
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": "Lovelace", "Company": "Engines", "Email": "ada@x.io",
         "HasOptedOutOfEmail": True},
        {"LastName": "Turing", "Company": "Bletchley", "Email": "alan@x.io"}])
    sandbox.admin("salesforce", "POST", "/records/Contact", json=[
        {"LastName": "Hopper", "Email": "grace@x.io"}])
    sandbox.admin("autopilot", "POST", "/contacts", json=[
        {"Email": "grace@x.io", "unsubscribed": True}])

    work = tmp_path_factory.mktemp("existing")
    root = work / "my-project"
    root.mkdir()
    meltano_commands(root, [
        ["init", ".", "--no-usage-stats"],
        *(["add", "--plugin-type", plugin_type, name,
           "--from-ref", str(definition(plugin_type, name)), "--no-install"]
          for plugin_type, name in AUTOPILOT_PLUGINS),
        # `meltano add --from-ref` keeps no `select` of a definition
        ["select", "tap-autopilot", "contacts", "*"],
        ["config", "set", "meltano", "venv.backend", "uv"]])
    pip_urls = {name: local_pip_url(yaml.safe_load(definition(kind, name).read_text())["pip_url"],
                                    work / "src")
                for kind, name in AUTOPILOT_PLUGINS}
    paste(root / "meltano.yml", snippet("autopilot"), pip_urls)
    meltano_commands(root, [*settings(sandbox), ["install"]])

    first = run([str(BIN / "meltano"), "run", "consent-sync"], root)
    for api in ("salesforce", "autopilot"):
        sandbox.admin(api, "DELETE", "/calls")
    again = meltano_commands(root, [["schedule", "run", "consent-sync-every-10-minutes"],
                                    ["invoke", "consent-mapper:history", "ada@x.io"]])
    return AdoptedProject(sandbox, root, first, again.stdout)


@existing_project
def test_meltano_add_from_ref_writes_each_definition_into_the_project(adopted):
    project = yaml.safe_load((adopted.root / "meltano.yml").read_text())
    added = {(kind, p["name"]): p for kind, plugins in project["plugins"].items()
             for p in plugins}
    # `meltano add --plugin-type <type>` and nothing else: no stray utility of the same name
    assert set(added) == {(f"{kind}s", name) for kind, name in AUTOPILOT_PLUGINS}
    for kind, name in AUTOPILOT_PLUGINS:
        plugin = added[(f"{kind}s", name)]
        assert plugin["variant"] == "consentsync"
        assert plugin["namespace"] == yaml.safe_load(definition(kind, name).read_text())[
            "namespace"]
    # the Autopilot tap reads contacts only (lists and members would cost calls for nothing)
    assert added[("extractors", "tap-autopilot")]["select"] == ["contacts.*"]


@existing_project
def test_first_run_syncs_opt_outs_both_ways(adopted):
    contacts = {c["Email"].lower(): c for c in
                adopted.sandbox.admin("autopilot", "GET", "/contacts").json()}
    assert contacts["ada@x.io"]["unsubscribed"] is True
    assert not contacts["alan@x.io"].get("unsubscribed")
    (grace,) = [c for c in adopted.sandbox.admin("salesforce", "GET", "/records/Contact").json()
                if c["Email"] == "grace@x.io"]
    assert grace["HasOptedOutOfEmail"] is True
    # the mapper's default ledger: inside the user's project, no setting needed; the
    # definition's ledger commands read it
    assert (adopted.root / ".meltano" / "consent-ledger.db").exists()
    assert "ada@x.io: agreed opted out" in adopted.history
    assert "salesforce Lead" in adopted.history


@existing_project
def test_the_pasted_schedule_runs_again_and_writes_nothing(adopted):
    assert adopted.writes() == {"salesforce": 0, "autopilot": 0}


@existing_project
def test_secrets_stay_out_of_meltano_yml_and_the_run_output(adopted):
    sf, ap = adopted.sandbox.endpoints["salesforce"], adopted.sandbox.endpoints["autopilot"]
    secrets = (sf["client_secret"], sf["refresh_token"], ap["api_key"])
    meltano_yml = (adopted.root / "meltano.yml").read_text()
    output = adopted.first_run.stdout + adopted.first_run.stderr
    assert [s for s in secrets if s in meltano_yml or s in output] == []
    # `meltano config set` put them where Meltano keeps secrets
    assert all(s in (adopted.root / ".env").read_text() for s in secrets)


@pytest.mark.parametrize("platform", ["autopilot", "activecampaign"])
def test_snippet_matches_this_project_and_names_only_defined_plugins(platform):
    """The snippet is this repository's own meltano.yml pieces, so what is tested here is what
    users paste; every plugin its jobs name has a Hub definition."""
    piece, ours = snippet(platform), yaml.safe_load((ROOT / "meltano.yml").read_text())
    (mapper,) = piece["plugins"]["mappers"]
    (our_mapper,) = [m for m in ours["plugins"]["mappers"] if m["name"] == mapper["name"]]
    assert mapper["config"].items() <= our_mapper["config"].items()
    our_mappings = {m["name"]: m for m in our_mapper["mappings"]}
    assert [our_mappings.get(m["name"]) for m in mapper["mappings"]] == mapper["mappings"]
    for key in ("jobs", "schedules"):
        our_items = {item["name"]: item for item in ours[key]}
        assert [our_items.get(item["name"]) for item in piece[key]] == piece[key]
    defined = {path.name.split("--")[0] for path in HUB.glob("*/*--consentsync.yml")}
    mappings = {m["name"] for m in mapper["mappings"]}
    for job in piece["jobs"]:
        for task in job["tasks"]:
            assert set(task.split()) <= defined | mappings, task


def test_readme_adds_every_plugin_from_its_definition_and_sets_only_real_settings():
    """The README's commands are the ones this test runs: a drifted name, path or setting fails."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Add it to your Meltano project", 1)[1].split("\n## ", 1)[0]
    adds = re.findall(r"meltano add --plugin-type (\w+) +([\w-]+) +--from-ref \$REF/(\S+)",
                      section)
    assert [(kind, name) for kind, name, _ in adds] == list(AUTOPILOT_PLUGINS)
    for kind, name, path in adds:
        assert HUB / path == definition(kind, name) and definition(kind, name).exists()
    kinds = dict((name, kind) for kind, name in AUTOPILOT_PLUGINS)
    loops = re.findall(r"for p in ([\w -]+); do(.*?)done", section, re.S)
    assert {p for plugins, _ in loops for p in plugins.split()} == set(kinds) - {"consent-mapper"}
    for plugins, body in loops:
        for plugin in plugins.split():
            known = {s["name"] for s in yaml.safe_load(
                definition(kinds[plugin], plugin).read_text())["settings"]}
            assert set(re.findall(r"meltano config set \$p (\w+)", body)) <= known, plugin
