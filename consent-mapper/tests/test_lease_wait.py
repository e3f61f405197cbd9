"""A run that finds the ledger held by another run of its direction waits, then ends in one line."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner

from consent_mapper import mapper
from consent_mapper.ledger.store import Ledger


def test_a_run_that_waited_in_vain_for_the_ledger_ends_in_one_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    other = Ledger(url)
    assert other.acquire("salesforce_to_autopilot:autopilot", timedelta(minutes=5)) is None
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"direction": "salesforce_to_autopilot", "ledger_url": url}))
    with mock.patch.object(mapper, "LEASE_WAIT", timedelta(0)), \
            mock.patch.object(mapper, "LEASE_POLL", 0.01), caplog.at_level(logging.ERROR):
        result = CliRunner().invoke(mapper.ConsentMapper.cli, ["--config", str(config)],
                                    input="")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # ended with its reason, not a traceback
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "held by another salesforce_to_autopilot:autopilot run" in errors[0]
    assert other.holder in errors[0]
