"""End-to-end fixtures: a sandbox on free ports and real `meltano run` against it."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from consent_sandbox.salesforce.testing import connect
from consent_sandbox.testing import MeltanoProject, RunningSandbox, running_sandbox

ROOT = Path(__file__).resolve().parent.parent
OPT_OUT = {"Lead": ("Email", "HasOptedOutOfEmail"), "Contact": ("Email", "HasOptedOutOfEmail"),
           "Account": ("PersonEmail", "PersonHasOptedOutOfEmail")}


# the test sandbox lets both platforms serve 50 requests a second (the plugins pace at 40)
SANDBOX_ARGS = ("--autopilot-rate-limit", "50", "--activecampaign-rate-limit", "50")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path / "sandbox", *SANDBOX_ARGS) as running:
        yield running


@pytest.fixture
def meltano(sandbox: RunningSandbox, tmp_path: Path) -> MeltanoProject:
    return project(sandbox, tmp_path)


def project(sandbox: RunningSandbox, folder: Path) -> MeltanoProject:
    meltano = MeltanoProject(sandbox, folder, ROOT)
    for plugin in ("TAP_ACTIVECAMPAIGN", "TARGET_ACTIVECAMPAIGN"):
        meltano.extra_env[f"{plugin}_RATE_LIMIT_PER_SECOND"] = "40"
    return meltano


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new database on the server of CONSENTSYNC_TEST_POSTGRES_URL (`.ci/postgres.sh`), its
    URL; dropped afterwards. Skips without a server, fails instead under
    CONSENTSYNC_REQUIRE_POSTGRES=1 (CI)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = os.environ.get("CONSENTSYNC_TEST_POSTGRES_URL")
    if not server:
        why = ("CONSENTSYNC_TEST_POSTGRES_URL is not set: run the tests under .ci/postgres.sh "
               "(it starts a throwaway PostgreSQL server)")
        if os.environ.get("CONSENTSYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail(why)
        pytest.skip(why)
    name = f"team_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def team_mode(meltano: MeltanoProject, database: str) -> None:
    """The ledger, Meltano's system database and its state on one PostgreSQL database."""
    meltano.extra_env["CONSENT_MAPPER_LEDGER_URL"] = database
    meltano.extra_env["MELTANO_DATABASE_URI"] = database


@pytest.fixture
def systems(sandbox: RunningSandbox, meltano: MeltanoProject) -> Systems:
    return Systems(sandbox, meltano)


class Autopilot:
    """The Autopilot stand-in, edited and read as a user would."""

    name = api = "autopilot"
    sync_job = "consent-sync"
    schedule = "consent-sync-every-10-minutes"

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.sandbox = sandbox

    def add(self, *rows: dict) -> None:
        """Contacts by ``Email``, with ``unsubscribed``."""
        self.sandbox.admin("autopilot", "POST", "/contacts", json=list(rows))

    def set_unsubscribed(self, email: str, value: bool) -> None:
        self.sandbox.admin("autopilot", "POST", f"/contacts/{email}", json={"unsubscribed": value})

    def hard_bounce(self, email: str) -> None:
        self.sandbox.admin("autopilot", "POST", f"/contacts/{email}/hardbounce")

    def contacts(self) -> dict[str, dict]:
        """Every contact by lower-cased address: ``unsubscribed`` and the contact as stored."""
        contacts = self.sandbox.admin("autopilot", "GET", "/contacts").json()
        return {c["Email"].lower(): {**c, "unsubscribed": bool(c.get("unsubscribed"))}
                for c in contacts}


class ActiveCampaign:
    """The ActiveCampaign stand-in: consent on list subscriptions (a contact on "Newsletter")."""

    name = api = "activecampaign"
    sync_job = "consent-sync-activecampaign"
    schedule = "consent-sync-activecampaign-every-10-minutes"
    LIST = "Newsletter"

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.sandbox = sandbox
        # the account's list that contacts from Salesforce join (meltano.yml's lead_list)
        endpoint = sandbox.endpoints["activecampaign"]
        lists = requests.get(f"{endpoint['base_url']}/lists", verify=sandbox.ca_bundle,
                             headers={"Api-Token": endpoint["api_token"]}, timeout=60)
        if self.LIST not in {row["name"] for row in lists.json()["lists"]}:
            requests.post(f"{endpoint['base_url']}/lists", verify=sandbox.ca_bundle,
                          headers={"Api-Token": endpoint["api_token"]}, timeout=60,
                          json={"list": {"name": self.LIST}}).raise_for_status()

    def add(self, *rows: dict) -> None:
        self.sandbox.admin("activecampaign", "POST", "/contacts", json=[
            {"email": r["Email"], "lists": {self.LIST: "unsubscribed" if r.get("unsubscribed")
                                            else "active"}} for r in rows])

    def set_unsubscribed(self, email: str, value: bool) -> None:
        if value:
            self.sandbox.admin("activecampaign", "POST", f"/contacts/{email}/unsubscribe")
        else:
            self.sandbox.admin("activecampaign", "POST", f"/contacts/{email}/subscribe",
                               json={"list": self.LIST})

    def hard_bounce(self, email: str) -> None:
        self.sandbox.admin("activecampaign", "POST", f"/contacts/{email}/hardbounce")

    def contacts(self) -> dict[str, dict]:
        found = {}
        for c in self.sandbox.admin("activecampaign", "GET", "/contacts").json():
            statuses = [m["status"] for m in c.get("lists") or ()]
            # nobody can mail a contact active on no list (unsubscribed from all, or on none)
            active = any(s in (1, "1", "active") for s in statuses)
            found[c["email"].lower()] = {**c, "unsubscribed": not active,
                                         "Company": c.get("orgname")}
        return found


PLATFORMS = {"autopilot": Autopilot, "activecampaign": ActiveCampaign}


class Systems:
    """Both sandbox systems, read and edited the way a user would, plus the project's ledger."""

    def __init__(self, sandbox: RunningSandbox, meltano: MeltanoProject,
                 platform: str = "autopilot") -> None:
        self.sandbox, self.meltano = sandbox, meltano
        self.platform = PLATFORMS[platform](sandbox)

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
        """Write calls served, by "salesforce" and "platform"."""
        return {"salesforce": self.sandbox.calls("salesforce")["writes"],
                "platform": self.sandbox.calls(self.platform.api)["writes"]}

    def reset_counters(self) -> None:
        for api in ("salesforce", self.platform.api):
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
