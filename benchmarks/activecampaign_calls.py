"""API calls per N contacts written by target-activecampaign and read by tap-activecampaign.

Run by hand: `python -m benchmarks.activecampaign_calls --size 10000`. It starts its own sandbox
(rate limit lifted, so only calls are measured, not waiting), then:
1. writes N new contacts (profile, two tags, a custom field, one list) through the target;
2. reads them all with the tap (no state: every changed contact, read in bulk);
3. edits one contact a second later and reads incrementally, then reads again (idle);
4. unsubscribes 1% of them as people would (no udate move) and reads incrementally;
5. writes an opt-out (`unsubscribed: true`) for 10% through the target, then re-subscribes 1%.
Each step prints the calls the sandbox served, by endpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

from consent_sandbox.testing import RunningSandbox, running_sandbox
from tap_activecampaign.tap import TapActiveCampaign
from target_activecampaign.target import TargetActiveCampaign

SCHEMA = {"type": "SCHEMA", "stream": "contacts", "key_properties": ["email"],
          "schema": {"type": "object", "properties": {}, "additionalProperties": True}}


def calls(sandbox: RunningSandbox) -> dict:
    snapshot = sandbox.calls("activecampaign")
    sandbox.admin("activecampaign", "DELETE", "/calls")
    return snapshot


def report(step: str, snapshot: dict) -> int:
    print(f"{step}: {snapshot['total']} calls ({snapshot['writes']} writes)")
    for row in snapshot["calls"]:
        print(f"    {row['count']:>6}  {row['method']:<6} {row['endpoint']}")
    return snapshot["total"]


def write(sandbox: RunningSandbox, records: list[dict]) -> None:
    ac = sandbox.endpoints["activecampaign"]
    config = {"api_url": ac["base_url"], "api_token": ac["api_token"],
              "ca_bundle": sandbox.ca_bundle, "rate_limit_per_second": 1000,
              "import_poll_seconds": 0.05}
    lines = [SCHEMA, *({"type": "RECORD", "stream": "contacts", "record": r} for r in records)]
    target = TargetActiveCampaign(config=config, parse_env_config=False)
    with contextlib.redirect_stdout(io.StringIO()):
        target.listen(io.StringIO("\n".join(json.dumps(m) for m in lines)))


def read(sandbox: RunningSandbox, state: dict | None) -> tuple[int, dict]:
    ac = sandbox.endpoints["activecampaign"]
    config = {"api_url": ac["base_url"], "api_token": ac["api_token"],
              "ca_bundle": sandbox.ca_bundle, "rate_limit_per_second": 1000,
              "safety_margin_seconds": 0}
    tap = TapActiveCampaign(config=config, state=state or {}, parse_env_config=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    records = sum(m["type"] == "RECORD" and m["stream"] == "contacts" for m in messages)
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return records, states[-1]


def run(size: int) -> dict[str, int]:
    results: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, running_sandbox(
            Path(tmp), "--activecampaign-rate-limit", "100000") as sandbox:
        sandbox.admin("activecampaign", "POST", "/contacts", json=[
            {"email": "owner@bench.example", "lists": {"Newsletter": "active",
                                                       "Events": "active"}}])
        calls(sandbox)
        people = [{"email": f"person{n}@bench.example", "first_name": f"P{n}",
                   "last_name": "Bench", "tags": ["created-from-salesforce-lead", "bench"],
                   "fields": {"Lead Status": "Open"}, "lists": ["Newsletter"]}
                  for n in range(size)]
        write(sandbox, people)
        results["write new contacts"] = report(f"write {size} new contacts", calls(sandbox))
        emitted, state = read(sandbox, None)
        results["read all (no state)"] = report(f"read all ({emitted} records)", calls(sandbox))
        # contacts sharing the bookmark's second are read again on purpose (a change later in
        # that second must not be missed); later activity moves the bookmark past the import
        time.sleep(1.1)
        sandbox.admin("activecampaign", "POST", "/contacts/owner@bench.example",
                      json={"firstName": "Owner"})
        emitted, state = read(sandbox, state)
        results["read after one profile edit"] = report(
            f"read after one profile edit ({emitted} records)", calls(sandbox))
        emitted, state = read(sandbox, state)
        results["read idle"] = report(f"read with state, nothing changed ({emitted} records)",
                                      calls(sandbox))
        for n in range(0, size, 100):
            sandbox.admin("activecampaign", "POST", f"/contacts/person{n}@bench.example/"
                          "unsubscribe")
        calls(sandbox)
        emitted, state = read(sandbox, state)
        results["read after 1% unsubscribed"] = report(
            f"read after 1% unsubscribed ({emitted} records)", calls(sandbox))
        write(sandbox, [{"email": f"person{n}@bench.example", "unsubscribed": True}
                        for n in range(0, size, 10)])
        results["write 10% opt-outs"] = report("write opt-outs for 10%", calls(sandbox))
        write(sandbox, [{"email": f"person{n}@bench.example", "unsubscribed": False,
                         "resubscribe_lists": ["Newsletter"]} for n in range(0, size, 100)])
        results["write 1% re-subscriptions"] = report("write re-subscriptions for 1%",
                                                      calls(sandbox))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    print(json.dumps(run(parser.parse_args().size), indent=2))


if __name__ == "__main__":
    main()
