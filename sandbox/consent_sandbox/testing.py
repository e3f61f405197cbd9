"""Start a sandbox process for tests and benchmarks, on free ports in a folder of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .control import wait_for_endpoints


@dataclass
class RunningSandbox:
    state_dir: Path
    endpoints: dict
    process: subprocess.Popen

    @property
    def ca_bundle(self) -> str:
        return self.endpoints["ca_bundle"]

    @property
    def salesforce_url(self) -> str:
        return self.endpoints["salesforce"]["instance_url"]

    @property
    def autopilot_url(self) -> str:
        return self.endpoints["autopilot"]["base_url"]

    @property
    def activecampaign_url(self) -> str:
        return self.endpoints["activecampaign"]["base_url"]

    def admin(self, api: str, method: str, path: str, **kwargs: object) -> requests.Response:
        """Call the admin surface of ``api`` ("salesforce", "autopilot" or "activecampaign")."""
        if api == "salesforce":
            base = self.salesforce_url
        elif api == "activecampaign":
            base = self.activecampaign_url.rsplit("/api/3", 1)[0]
        else:
            base = self.autopilot_url.rsplit("/v1", 1)[0]
        response = requests.request(method, f"{base}/_sandbox{path}", verify=self.ca_bundle,
                                    timeout=60, **kwargs)
        response.raise_for_status()
        return response

    def calls(self, api: str) -> dict:
        return self.admin(api, "GET", "/calls").json()


@contextmanager
def running_sandbox(state_dir: Path, *args: str, timeout: float = 60) -> Iterator[RunningSandbox]:
    """Run ``consent-sandbox serve`` on free ports until the block ends."""
    state_dir.mkdir(parents=True, exist_ok=True)
    endpoints_path = state_dir / "endpoints.json"
    endpoints_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "consent_sandbox.cli", "serve", "--state-dir", str(state_dir),
           "--salesforce-port", "0", "--autopilot-port", "0", "--activecampaign-port", "0",
           *args]
    log = open(state_dir / "sandbox.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        yield RunningSandbox(state_dir, wait_for_endpoints(state_dir, process, timeout), process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@dataclass
class MeltanoProject:
    """Runs jobs of a Meltano project against a running sandbox, with its own system database."""

    sandbox: RunningSandbox
    workdir: Path
    project_root: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def meltano(self) -> Path:
        return self.project_root / ".venv" / "bin" / "meltano"

    def sys_dir(self) -> Path:
        """A `.meltano` of this run's own: parallel runs must not share `run/` (catalogs, state
        files); the installed plugin venvs are linked in from the project."""
        sys_dir = self.workdir / ".meltano"
        for kind in ("extractors", "loaders", "mappers", "utilities"):
            link, installed = sys_dir / kind, self.project_root / ".meltano" / kind
            if installed.exists() and not link.exists():
                sys_dir.mkdir(parents=True, exist_ok=True)
                link.symlink_to(installed, target_is_directory=True)
        return sys_dir

    def env(self) -> dict[str, str]:
        sf, ap = self.sandbox.endpoints["salesforce"], self.sandbox.endpoints["autopilot"]
        ca = self.sandbox.ca_bundle
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TAP_", "TARGET_", "CONSENT_MAPPER_"))}
        env.update({
            "MELTANO_DATABASE_URI": f"sqlite:///{self.workdir / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_ENVIRONMENT": "sandbox",
            "MELTANO_SYS_DIR_ROOT": str(self.sys_dir()),
            # each project run gets its own ledger, like its own system database
            "CONSENT_MAPPER_LEDGER_URL": f"sqlite:///{self.workdir / 'consent-ledger.db'}",
        })
        for plugin in ("TAP_SALESFORCE_OPTOUT", "TARGET_SALESFORCE"):
            env[f"{plugin}_INSTANCE_URL"] = sf["instance_url"]
            env[f"{plugin}_LOGIN_URL"] = sf["login_url"]
            env[f"{plugin}_CA_BUNDLE"] = ca
        for plugin in ("TAP_AUTOPILOT", "TARGET_AUTOPILOT"):
            env[f"{plugin}_BASE_URL"] = ap["base_url"]
            env[f"{plugin}_CA_BUNDLE"] = ca
            # tests start the sandbox with a higher limit than Autopilot's 5 a second
            env[f"{plugin}_RATE_LIMIT_PER_SECOND"] = "40"
        ac = self.sandbox.endpoints.get("activecampaign")
        for plugin in ("TAP_ACTIVECAMPAIGN", "TARGET_ACTIVECAMPAIGN") if ac else ():
            env[f"{plugin}_API_URL"] = ac["base_url"]
            env[f"{plugin}_API_TOKEN"] = ac["api_token"]
            env[f"{plugin}_CA_BUNDLE"] = ca
        env.update(self.extra_env)
        return env

    def schedule_run(self, name: str) -> subprocess.CompletedProcess:
        """`meltano schedule run NAME`, as a scheduler starts the job (with the schedule's env)."""
        result = subprocess.run([str(self.meltano), "schedule", "run", name],
                                cwd=self.project_root, env=self.env(),
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise AssertionError(f"meltano schedule run {name} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`meltano run ...`; output kept for assertions and shown when the run fails."""
        result = subprocess.run([str(self.meltano), "run", *args],
                                cwd=self.project_root, env=self.env(),
                                capture_output=True, text=True, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(
                f"meltano run {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
            )
        return result
