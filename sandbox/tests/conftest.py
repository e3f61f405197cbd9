"""A sandbox shared by the tests of one module."""

import pytest

from consent_sandbox.testing import running_sandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("sbx"), "--autopilot-rate-limit", "1000") as sbx:
        yield sbx
