"""The marketing platform side of a world: how the script edits it, how its end state is read.

Pluggable by name (`--platform`): a platform says which Meltano job and schedule sync it with
Salesforce, how its sandbox is started, which faults it can suffer, how a user edits its contacts.
"""

from __future__ import annotations

import random
from typing import Protocol

import requests

from consent_sandbox.testing import RunningSandbox


class Platform(Protocol):
    name: str  # the sandbox API name, as in `RunningSandbox.admin(name, ...)`
    job: str  # the Meltano job that syncs both ways
    # ledger direction -> the Meltano job of that direction alone (a twin world runs one of them
    # while the other has not read yet)
    direction_jobs: dict[str, str]
    schedule: str  # the schedule that runs it
    sandbox_args: tuple[str, ...]

    def env(self) -> dict[str, str]:
        """Settings of the platform's plugins for a chaos run."""

    def create(self, sandbox: RunningSandbox, email: str, opted_out: bool) -> str:
        """A contact made by a user (or an import) before the sync knew it; its id."""

    def set_opted_out(self, sandbox: RunningSandbox, contact_id: str, opted_out: bool) -> bool:
        """A user unsubscribes or re-subscribes the contact; False when it is gone."""

    def bounce(self, sandbox: RunningSandbox, contact_id: str) -> bool:
        """A hard bounce on the contact; False when it is gone."""

    def contacts(self, sandbox: RunningSandbox) -> list[dict]:
        """Every contact as ``{"id", "email", "opted_out"}``."""

    def random_fault(self, rng: random.Random) -> dict:
        """One fault for the sandbox's ``POST /_sandbox/faults``."""


class Autopilot:
    name = "autopilot"
    job = "consent-sync"
    schedule = "consent-sync-every-10-minutes"
    direction_jobs = {"salesforce_to_autopilot": "salesforce-to-autopilot",
                      "autopilot_to_salesforce": "autopilot-to-salesforce"}
    sandbox_args = ("--autopilot-rate-limit", "50")

    def env(self) -> dict[str, str]:
        return {"TARGET_AUTOPILOT_RETRY_BACKOFF_SECONDS": "1"}

    def create(self, sandbox: RunningSandbox, email: str, opted_out: bool) -> str:
        answer = sandbox.admin("autopilot", "POST", "/contacts",
                               json=[{"Email": email, "unsubscribed": opted_out}])
        return answer.json()["contact_ids"][0]

    def set_opted_out(self, sandbox: RunningSandbox, contact_id: str, opted_out: bool) -> bool:
        return _gone_is_false(sandbox, f"/contacts/{contact_id}", {"unsubscribed": opted_out})

    def bounce(self, sandbox: RunningSandbox, contact_id: str) -> bool:
        return _gone_is_false(sandbox, f"/contacts/{contact_id}/hardbounce", None)

    def contacts(self, sandbox: RunningSandbox) -> list[dict]:
        # a hard bounce counts as opted out (CONSENT-RULES, `bounce_is_opt_out` on by default)
        return [{"id": c["contact_id"], "email": c.get("Email") or "",
                 "opted_out": bool(c.get("unsubscribed") or c.get("mail_hardbounced"))}
                for c in sandbox.admin("autopilot", "GET", "/contacts").json()]

    def random_fault(self, rng: random.Random) -> dict:
        status = rng.choice((429, 429, 500, 502, 503))
        fault: dict = {"status": status, "count": rng.randint(1, 3)}
        if rng.random() < 0.5:
            fault["method"] = rng.choice(("GET", "POST"))
        return fault


def _gone_is_false(sandbox: RunningSandbox, path: str, body: dict | None) -> bool:
    try:
        sandbox.admin("autopilot", "POST", path, json=body)
    except requests.HTTPError as error:
        if error.response is not None and error.response.status_code == 404:
            return False
        raise
    return True


PLATFORMS: dict[str, type] = {"autopilot": Autopilot}
