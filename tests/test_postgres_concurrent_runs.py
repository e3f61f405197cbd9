"""Team mode: two `meltano run` of one job at once on one PostgreSQL ledger and Meltano database.

Two machines: each run has a `.meltano` of its own (one machine's runs at once would share its
catalog files); the ledger and Meltano's system database and state are one. Both runs run the
tap, the consent mapper and the target for real. The test makes them meet in the one place where
they must: the first run holds the lease of a direction while it decides (the test keeps it
deciding by holding the ledger's runs table locked, as the other direction's run would), the
second asks for the lease, says who holds it and waits; then the first commits and the second
decides after it. Like the schedule, both runs force past Meltano's own "already running" check:
the mapper's lease is what serializes them.
"""

from __future__ import annotations

import json
import subprocess
import threading

import pytest
from sqlalchemy import create_engine, text

from consent_mapper.ledger.store import Ledger
from consent_sandbox.testing import running_sandbox

from .conftest import SANDBOX_ARGS, Systems, postgres_database, project, team_mode

pytestmark = pytest.mark.xdist_group("postgres-concurrent")
JOB = "consent-sync"
WAITING = "waiting for the consent ledger: another salesforce_to_autopilot:autopilot run holds it"


class Run:
    """A `meltano run` in the background, its log lines collected as they come."""

    def __init__(self, meltano, wanted: str = "") -> None:
        env = {**meltano.env(), "MELTANO_RUN_FORCE": "true"}
        self.process = subprocess.Popen(
            [str(meltano.meltano), "run", JOB], cwd=meltano.project_root, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.seen = threading.Event()
        self.wanted = wanted
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.append(line)
            if self.wanted and self.wanted in line:
                self.seen.set()
        self.seen.set()  # ended: whoever waits looks at the lines

    def wait(self) -> str:
        self.process.wait(timeout=600)
        self.reader.join()
        return "".join(self.lines)


def _lease_holder(url: str, name: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as c:
        holder = c.execute(text("SELECT holder FROM ledger_leases WHERE name = :n"),
                           {"n": name}).scalar()
    engine.dispose()
    return holder


def test_two_runs_of_one_job_at_once_end_as_one_run_would(tmp_path):
    with postgres_database() as database, \
            running_sandbox(tmp_path / "sandbox", *SANDBOX_ARGS) as sandbox:
        meltano, other_machine = (project(sandbox, tmp_path / m) for m in ("one", "two"))
        for machine in (meltano, other_machine):
            team_mode(machine, database)
        s = Systems(sandbox, meltano)
        s.add("Lead", {"LastName": "A", "Company": "C", "Email": "a@x.io",
                       "HasOptedOutOfEmail": True},
              {"LastName": "B", "Company": "C", "Email": "b@x.io"},
              {"LastName": "C", "Company": "C", "Email": "c@x.io"})
        s.platform.add({"Email": "a@x.io", "unsubscribed": False},
                       {"Email": "b@x.io", "unsubscribed": True})
        Ledger(database).close()  # the ledger's tables, to hold one of them locked
        blocker = create_engine(database).connect()
        try:
            # the first run takes the lease, then waits to decide behind this lock
            blocker.execute(text("LOCK TABLE ledger_runs IN EXCLUSIVE MODE"))
            first = Run(meltano)
            lease = "salesforce_to_autopilot:autopilot"
            while _lease_holder(database, lease) is None:
                assert first.process.poll() is None, "".join(first.lines)[-4000:]
                threading.Event().wait(0.2)
            second = Run(other_machine, wanted=WAITING)
            second.seen.wait(timeout=600)
            assert any(WAITING in line for line in second.lines), "".join(second.lines)[-4000:]
        finally:
            blocker.rollback()
            blocker.close()
        first_log, second_log = first.wait(), second.wait()
        assert first.process.returncode == 0, first_log[-6000:]
        assert second.process.returncode == 0, second_log[-6000:]
        holder = _waited_for(second_log)
        assert "pid" in holder and "lease ends" in holder
        assert "this run waited and decided after that run committed" in first_log

        # the end state of one run: opt-outs both ways, the new person in the platform
        assert s.crm("a@x.io") and set(s.crm("a@x.io").values()) == {True}
        assert set(s.crm("b@x.io").values()) == {True}
        assert set(s.crm("c@x.io").values()) == {False}
        contacts = s.platform.contacts()
        assert contacts["a@x.io"]["unsubscribed"] is True
        assert contacts["b@x.io"]["unsubscribed"] is True
        assert contacts["c@x.io"]["unsubscribed"] is False
        engine = create_engine(database)
        with engine.connect() as c:
            runs = c.execute(text("SELECT direction, finished_at FROM ledger_runs")).all()
            first_sights = c.execute(text(
                "SELECT email, count(*) FROM ledger_audit WHERE rule = 'R1' "
                "GROUP BY email")).all()
            leases = c.execute(text("SELECT count(*) FROM ledger_leases")).scalar_one()
        engine.dispose()
        assert sorted(d for d, _ in runs) == ["autopilot_to_salesforce"] * 2 + [
            "salesforce_to_autopilot"] * 2
        assert all(finished for _, finished in runs)
        assert first_sights and all(n == 1 for _, n in first_sights)  # decided once, not twice
        assert leases == 0  # both released

        # Meltano's state, on the same server, intact: a bookmark per task
        listed = _meltano(meltano, "state", "list").split()
        ids = [i for i in listed if "tap-" in i]
        assert len(ids) == 2, listed
        for state_id in ids:
            state = json.loads(_meltano(meltano, "state", "get", state_id))
            assert state["singer_state"]["bookmarks"], state


def _waited_for(log: str) -> str:
    line = next(li for li in log.splitlines() if WAITING in li)
    return line.split(WAITING, 1)[1]


def _meltano(meltano, *args: str) -> str:
    result = subprocess.run([str(meltano.meltano), *args], cwd=meltano.project_root,
                            env=meltano.env(), capture_output=True, text=True, timeout=120,
                            check=True)
    return result.stdout
