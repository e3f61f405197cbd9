"""An ActiveCampaign that cannot be reached (real loopback): the tap stops at the first try with
one message naming api_url, and the CLI prints that line instead of a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from singer_sdk.exceptions import FatalAPIError

from tap_activecampaign.tap import TapActiveCampaign


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{probe.getsockname()[1]}/api/3"  # closed: nothing listens


def test_a_refused_api_url_stops_the_sync_at_the_first_try() -> None:
    url = refused_url()
    tap = TapActiveCampaign(config={"api_url": url, "api_token": "secret-token"})
    with pytest.raises(FatalAPIError) as caught:
        tap.sync_all()
    assert tap.http_session.calls == 1
    assert str(caught.value).endswith(f"check api_url ({url}), its host and port")


def test_the_cli_ends_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_url": refused_url(), "api_token": "secret-token",
                                  "ca_bundle": str(tmp_path / "none.pem")}))
    done = subprocess.run([sys.executable, "-m", "tap_activecampaign.tap", "--config",
                           str(config)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "ca_bundle is" in errors[0] and "which is no file" in errors[0]
