"""The SDK's standard tap test suite, run against the Salesforce stand-in.

The suite discovers the tap's streams while the tests are collected, and discovery reads
describe from Salesforce, so the sandbox starts when this module is imported.
"""

from __future__ import annotations

import atexit
import contextlib
import tempfile
from pathlib import Path

from singer_sdk.testing import get_tap_test_class

from consent_sandbox.testing import running_sandbox
from tap_salesforce_optout.tap import TapSalesforceOptout

_stack = contextlib.ExitStack()
_folder = _stack.enter_context(tempfile.TemporaryDirectory(prefix="std-sf-"))
_sandbox = _stack.enter_context(running_sandbox(Path(_folder)))
atexit.register(_stack.close)  # stops the sandbox, then removes its folder
_sandbox.admin("salesforce", "POST", "/records/Lead", json=[
    {"LastName": "Std", "Company": "C", "Email": "std@standard.example"}])
_sandbox.admin("salesforce", "POST", "/records/Contact", json=[
    {"LastName": "Std", "Email": "std@standard.example", "HasOptedOutOfEmail": True}])
_sandbox.admin("salesforce", "POST", "/records/Account", json=[
    {"LastName": "Person", "PersonEmail": "pa@standard.example"}])
_sf = _sandbox.endpoints["salesforce"]
CONFIG = {k: _sf[k] for k in ("instance_url", "login_url", "client_id", "client_secret",
                              "refresh_token")} | {"ca_bundle": _sandbox.ca_bundle}

TestTapSalesforceOptoutStandard = get_tap_test_class(TapSalesforceOptout, config=CONFIG)
