"""End-to-end fixtures: a sandbox on free ports and real `meltano run` against it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from consent_sandbox.salesforce.testing import connect
from consent_sandbox.testing import MeltanoProject, RunningSandbox, running_sandbox

ROOT = Path(__file__).resolve().parent.parent
OPT_OUT = {"Lead": ("Email", "HasOptedOutOfEmail"), "Contact": ("Email", "HasOptedOutOfEmail"),
           "Account": ("PersonEmail", "PersonHasOptedOutOfEmail")}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path / "sandbox", "--autopilot-rate-limit", "50") as running:
        yield running


@pytest.fixture
def meltano(sandbox: RunningSandbox, tmp_path: Path) -> MeltanoProject:
    return MeltanoProject(sandbox, tmp_path, ROOT)


@pytest.fixture
def systems(sandbox: RunningSandbox, meltano: MeltanoProject) -> Systems:
    return Systems(sandbox, meltano)


class Systems:
    """Both sandbox systems, read and edited the way a user would, plus the project's ledger."""

    def __init__(self, sandbox: RunningSandbox, meltano: MeltanoProject) -> None:
        self.sandbox, self.meltano = sandbox, meltano

    def add(self, sobject: str, *rows: dict) -> list[str]:
        answer = self.sandbox.admin("salesforce", "POST", f"/records/{sobject}", json=list(rows))
        return answer.json()["ids"]

    def edit(self, sobject: str, record_id: str, **fields: object) -> None:
        self.sandbox.admin("salesforce", "PATCH", f"/records/{sobject}/{record_id}", json=fields)

    def delete(self, sobject: str, record_id: str) -> None:
        """To the recycle bin, through the REST API, as a user deletes."""
        getattr(connect(self.sandbox), sobject).delete(record_id)

    def crm(self, email: str) -> dict[str, bool]:
        """Opt-out of every live CRM record of ``email``, by "<object> <id>"."""
        found = {}
        for sobject, (email_field, flag) in OPT_OUT.items():
            for row in self.sandbox.admin("salesforce", "GET", f"/records/{sobject}").json():
                if sobject == "Contact" and row.get("IsPersonAccount"):
                    continue  # the mirror of a Person Account: read through the Account
                if (row.get(email_field) or "").lower() == email and not row.get("IsDeleted"):
                    found[f"{sobject} {row['Id']}"] = bool(row.get(flag))
        return found

    def ap_add(self, *rows: dict) -> None:
        self.sandbox.admin("autopilot", "POST", "/contacts", json=list(rows))

    def ap_edit(self, email: str, **fields: object) -> None:
        self.sandbox.admin("autopilot", "POST", f"/contacts/{email}", json=fields)

    def ap(self) -> dict[str, dict]:
        contacts = self.sandbox.admin("autopilot", "GET", "/contacts").json()
        return {c["Email"].lower(): c for c in contacts}

    def writes(self) -> dict[str, int]:
        return {api: self.sandbox.calls(api)["writes"] for api in ("salesforce", "autopilot")}

    def reset_counters(self) -> None:
        for api in ("salesforce", "autopilot"):
            self.sandbox.admin(api, "DELETE", "/calls")

    def history(self, email: str) -> str:
        """`consent-ledger history`, on the project's ledger."""
        return self.ledger("history", email)

    def ledger(self, *args: str) -> str:
        """`consent-ledger ...` (history, pending, last-run) on the project's ledger."""
        result = subprocess.run(
            [str(self.meltano.project_root / ".venv" / "bin" / "consent-ledger"), *args],
            env=self.meltano.env(), capture_output=True, text=True, timeout=60, check=True)
        return result.stdout
