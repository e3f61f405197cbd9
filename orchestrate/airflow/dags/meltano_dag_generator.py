"""Airflow DAGs for the Meltano schedules of this project.

One DAG a schedule (`meltano schedule list --format=json`), on the schedule's cron interval, whose
one task runs the schedule's job with the schedule's env: `meltano run consent-sync` every
`*/10 * * * *` with MELTANO_RUN_FORCE=true. Airflow finds this file in `core.dags_folder` of the
utility in orchestrate/airflow.yml. The name is the one Meltano's Airflow extension gives its own
generator, so that extension's `initialize` keeps this file instead of adding a second DAG for
every schedule.

Where this differs from Meltano's stock generator, and why:
- the schedule's `env` reaches the task: MELTANO_RUN_FORCE lets a run start right after one that
  was killed (the consent mapper's lease on the ledger keeps two runs from deciding at once);
- one task runs the whole job, both directions in order in one Meltano run, as
  `meltano schedule run` and `make sync` do;
- no Airflow retries: the next run ten minutes later is the retry (every write is safe to replay).

Only `create_dags` needs Airflow; the rest is plain Python the project's tests run without it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(os.environ.get("MELTANO_PROJECT_ROOT", os.getcwd()))
# the project's own `meltano` (Meltano links it here when it invokes a plugin), else the PATH's
MELTANO_LINK = ".meltano/run/bin"


@dataclass(frozen=True)
class ScheduledRun:
    """What the orchestrator runs for one Meltano schedule."""

    dag_id: str
    cron: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", "_".join(self.command[1:]))

    def bash_command(self, project_root: Path) -> str:
        return f"cd {shlex.quote(str(project_root))} && {shlex.join(self.command)}"


def meltano_bin(project_root: Path) -> str:
    link = project_root / MELTANO_LINK
    return str(link) if link.exists() else "meltano"


def meltano_schedules(project_root: Path, meltano: str) -> dict:
    """`meltano schedule list --format=json` of the project (its environment is the one Meltano
    was started with: MELTANO_ENVIRONMENT passes through)."""
    listed = subprocess.run([meltano, "--log-level=warning", "schedule", "list", "--format=json"],
                            cwd=project_root, capture_output=True, text=True, check=True)
    return json.loads(listed.stdout)


def scheduled_runs(schedule_export: dict, meltano: str = "meltano") -> list[ScheduledRun]:
    """The runs of every schedule with a cron interval (`@once` and manual ones have none)."""
    schedules = schedule_export.get("schedules", {})
    runs = []
    for schedule in schedules.get("job") or []:
        name, cron = schedule["name"], schedule.get("cron_interval")
        if not cron:
            log.info("schedule %s has no cron interval: no DAG", name)
            continue
        job = schedule["job"]["name"]
        runs.append(ScheduledRun(
            dag_id=f"meltano_{name}", cron=cron, command=[meltano, "run", job],
            env={key: str(value) for key, value in (schedule.get("env") or {}).items()},
            tags=["meltano", f"schedule:{name}", f"job:{job}"]))
    for schedule in schedules.get("elt") or []:  # legacy `meltano elt` schedules
        name, cron = schedule["name"], schedule.get("cron_interval")
        if not cron:
            log.info("schedule %s has no cron interval: no DAG", name)
            continue
        # `schedule run` applies the schedule's own env and arguments
        runs.append(ScheduledRun(dag_id=f"meltano_{name}", cron=cron,
                                 command=[meltano, "schedule", "run", name],
                                 tags=["meltano", f"schedule:{name}"]))
    return runs


def create_dags(namespace: dict) -> None:
    """Register an Airflow DAG in ``namespace`` (this module's globals) for every scheduled run."""
    from airflow import DAG

    try:
        from airflow.providers.standard.operators.bash import BashOperator
    except ImportError:  # Airflow 2
        from airflow.operators.bash import BashOperator

    meltano = meltano_bin(PROJECT_ROOT)
    for run in scheduled_runs(meltano_schedules(PROJECT_ROOT, meltano), meltano):
        with DAG(run.dag_id, schedule=run.cron, tags=run.tags,
                 start_date=datetime(2024, 1, 1, tzinfo=UTC),
                 # no backlog of missed intervals: one run catches up on everything
                 catchup=False, max_active_runs=1,
                 default_args={"owner": "meltano", "retries": 0}) as dag:
            BashOperator(task_id=run.task_id, bash_command=run.bash_command(PROJECT_ROOT),
                         env=run.env, append_env=True)
        namespace[run.dag_id] = dag


try:
    import airflow  # noqa: F401
except ImportError:  # imported by the project's tests, where Airflow is not installed
    pass
else:
    create_dags(globals())
