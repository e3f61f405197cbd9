"""A sandbox (ActiveCampaign stand-in over loopback TLS) shared by the integration tests, and a
helper that feeds records to the target in this process."""

from __future__ import annotations

import io
import json

import pytest
from singer_sdk.testing.runners import TargetTestRunner

from consent_sandbox.testing import RunningSandbox, running_sandbox
from target_activecampaign.target import TargetActiveCampaign

SCHEMA = {"type": "SCHEMA", "stream": "contacts", "key_properties": ["email"],
          "schema": {"type": "object", "properties": {
              "email": {"type": "string"}, "first_name": {"type": ["string", "null"]},
              "last_name": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]},
              "orgname": {"type": ["string", "null"]}, "id": {"type": ["string", "null"]},
              "unsubscribed": {"type": ["boolean", "null"]},
              "lists": {"type": ["array", "null"], "items": {"type": "string"}},
              "resubscribe_lists": {"type": ["array", "null"], "items": {"type": "string"}},
              "tags": {"type": ["array", "null"], "items": {"type": "string"}},
              "fields": {"type": ["object", "null"]},
              "_delete": {"type": ["boolean", "null"]}}}}


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory) -> RunningSandbox:
    with running_sandbox(tmp_path_factory.mktemp("sbx"), "--activecampaign-rate-limit",
                         "50") as sbx:
        yield sbx


@pytest.fixture
def clean_sandbox(sandbox: RunningSandbox) -> RunningSandbox:
    for method, path in (("POST", "/reset"), ("DELETE", "/faults"), ("DELETE", "/calls")):
        sandbox.admin("activecampaign", method, path)
    sandbox.admin("activecampaign", "POST", "/contacts", json=[
        {"email": "seed@consent.example", "lists": {"Newsletter": "active", "Events": "active",
                                                    "Partners": "unsubscribed"}}])
    return sandbox


@pytest.fixture
def target_config(clean_sandbox: RunningSandbox) -> dict:
    ac = clean_sandbox.endpoints["activecampaign"]
    return {"api_url": ac["base_url"], "api_token": ac["api_token"],
            "ca_bundle": clean_sandbox.ca_bundle, "rate_limit_per_second": 40,
            "max_retries": 4, "retry_backoff_seconds": 0.05, "import_poll_seconds": 0.02}


def feed_records(config: dict, records: list[dict], state: dict | None = None) -> TargetTestRunner:
    """Run the target on one `contacts` stream of `records` (then a STATE), in this process."""
    lines = [SCHEMA, *({"type": "RECORD", "stream": "contacts", "record": r} for r in records),
             {"type": "STATE", "value": state or {"bookmarks": {"contacts": {"n": len(records)}}}}]
    runner = TargetTestRunner(TargetActiveCampaign, config=config,
                              input_io=io.StringIO("\n".join(json.dumps(m) for m in lines)))
    runner.sync_all()
    return runner


def contacts_of(sandbox: RunningSandbox) -> dict[str, dict]:
    return {c["email"]: c for c in sandbox.admin("activecampaign", "GET", "/contacts").json()}


@pytest.fixture(scope="session")
def feed():
    """`feed(config, records, state=None)`: run the target in this process."""
    return feed_records


@pytest.fixture(scope="session")
def contacts():
    """`contacts(sandbox)`: every contact of the stand-in by email, with lists, tags, fields."""
    return contacts_of
