"""The schedules as an orchestrator sees them, without the orchestrator: what Meltano lists, what
the Airflow DAG generator makes of it, and the utility definition that points Airflow at it."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
GENERATOR = ROOT / "orchestrate" / "airflow" / "dags" / "meltano_dag_generator.py"
DEFINITION = ROOT / "orchestrate" / "airflow.yml"
TASKS = {
    "consent-sync": [
        "tap-salesforce-optout consent-salesforce-to-autopilot target-autopilot",
        "tap-autopilot consent-autopilot-to-salesforce target-salesforce",
    ],
    "consent-sync-activecampaign": [
        "tap-salesforce-optout consent-salesforce-to-activecampaign target-activecampaign",
        "tap-activecampaign consent-activecampaign-to-salesforce target-salesforce",
    ],
}
SCHEDULES = {"consent-sync-every-10-minutes": "consent-sync",
             "consent-sync-activecampaign-every-10-minutes": "consent-sync-activecampaign"}

pytestmark = pytest.mark.xdist_group("orchestrate")


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("meltano_dag_generator", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def listed(tmp_path_factory) -> dict:
    """Meltano's answers, asked at once: the schedule and job lists of this project, and
    `meltano add` of the Airflow utility in a copy of it."""
    copy = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "meltano.yml", copy / "meltano.yml")
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    commands = {
        "schedules": ([MELTANO, "--log-level=warning", "schedule", "list", "--format=json"], ROOT),
        "jobs": ([MELTANO, "--log-level=warning", "job", "list", "--format=json"], ROOT),
        "add": ([MELTANO, "add", "--plugin-type", "utility", "airflow", "--from-ref",
                 str(DEFINITION), "--no-install"], copy),
    }
    # a system database each: Meltano migrates it on start, and two at once would collide
    running = {name: subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**env, "MELTANO_DATABASE_URI": f"sqlite:///{copy / name}.db"})
        for name, (argv, cwd) in commands.items()}
    answers = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, f"{commands[name][0]}:\n{out}\n{err}"
        answers[name] = out
    answers["added"] = yaml.safe_load((copy / "meltano.yml").read_text())
    return answers


def test_schedule_list_has_both_schedules_every_10_minutes_with_run_force(listed):
    schedules = json.loads(listed["schedules"])["schedules"]
    assert schedules["elt"] == []
    by_name = {s["name"]: s for s in schedules["job"]}
    assert set(by_name) == set(SCHEDULES)
    for name, job in SCHEDULES.items():
        assert by_name[name]["interval"] == by_name[name]["cron_interval"] == "*/10 * * * *"
        assert by_name[name]["env"] == {"MELTANO_RUN_FORCE": "true"}
        assert by_name[name]["job"] == {"name": job, "tasks": TASKS[job]}


def test_job_list_has_each_scheduled_job_with_its_two_directions_in_order(listed):
    jobs = {j["job_name"]: j["tasks"] for j in json.loads(listed["jobs"])["jobs"]}
    for job, tasks in TASKS.items():
        assert jobs[job] == tasks
    # each direction alone, for a schedule of one's own
    assert jobs["salesforce-to-autopilot"] == TASKS["consent-sync"][:1]
    assert jobs["autopilot-to-salesforce"] == TASKS["consent-sync"][1:]


def test_the_generator_runs_each_scheduled_job_with_the_schedules_env(listed):
    runs = load_generator().scheduled_runs(json.loads(listed["schedules"]), "meltano")
    by_dag = {run.dag_id: run for run in runs}
    assert set(by_dag) == {f"meltano_{name}" for name in SCHEDULES}
    run = by_dag["meltano_consent-sync-every-10-minutes"]
    assert run.cron == "*/10 * * * *"
    assert run.command == ["meltano", "run", "consent-sync"]
    assert run.env == {"MELTANO_RUN_FORCE": "true"}
    assert run.task_id == "run_consent-sync"
    assert run.bash_command(Path("/srv/consent sync")) == \
        "cd '/srv/consent sync' && meltano run consent-sync"
    assert "job:consent-sync" in run.tags
    assert by_dag["meltano_consent-sync-activecampaign-every-10-minutes"].command == \
        ["meltano", "run", "consent-sync-activecampaign"]


def test_the_generator_skips_unscheduled_ones_and_runs_legacy_elt_schedules_whole():
    export = {"schedules": {
        "job": [{"name": "by-hand", "interval": "@once", "cron_interval": None,
                 "env": {}, "job": {"name": "consent-sync", "tasks": []}}],
        "elt": [{"name": "nightly", "interval": "@daily", "cron_interval": "0 0 * * *",
                 "extractor": "tap-x", "loader": "target-y", "transform": "skip", "env": {}}],
    }}
    runs = load_generator().scheduled_runs(export, ".meltano/run/bin")
    assert [(r.dag_id, r.cron, r.command) for r in runs] == \
        [("meltano_nightly", "0 0 * * *", [".meltano/run/bin", "schedule", "run", "nightly"])]


@pytest.mark.skipif(importlib.util.find_spec("airflow") is not None, reason="Airflow installed")
def test_the_generator_imports_without_airflow_and_makes_no_dags_there():
    module = load_generator()
    assert "airflow" not in sys.modules
    assert not [name for name in vars(module) if name.startswith("meltano_consent")]


def test_the_utility_definition_adds_airflow_pointed_at_the_generator(listed):
    definition = yaml.safe_load(DEFINITION.read_text())
    airflow = {p["name"]: p for p in listed["added"]["plugins"]["utilities"]}["airflow"]
    assert airflow["executable"] == "airflow"
    assert airflow["pip_url"].startswith("apache-airflow==")
    settings = {s["name"]: s for s in airflow["settings"]}
    assert settings == {s["name"]: s for s in definition["settings"]}
    dags = settings["core.dags_folder"]
    assert dags["env"] == "AIRFLOW__CORE__DAGS_FOLDER"
    folder = Path(dags["value"].replace("$MELTANO_PROJECT_ROOT", str(ROOT)))
    assert folder / GENERATOR.name == GENERATOR
    assert settings["core.dags_are_paused_at_creation"]["value"] is True
    assert {"initialize", "scheduler", "ui"} <= set(airflow["commands"])
    # kept out of the default install: the project itself has no orchestrator plugin
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    assert "airflow" not in {p["name"] for p in project["plugins"].get("utilities", [])}
    assert "orchestrators" not in project["plugins"]
