"""An Autopilot that cannot be reached (real loopback): one message naming base_url, one try."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from target_autopilot.client import AutopilotClient, AutopilotUnreachable


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{probe.getsockname()[1]}/v1"  # closed: nothing listens


def test_a_refused_base_url_is_not_retried_nor_blamed_on_the_rate_limit() -> None:
    url = refused_url()
    client = AutopilotClient(url, "secret-key", rate_limit_per_second=0, max_retries=5)
    with pytest.raises(AutopilotUnreachable) as caught:
        client.request("GET", "/contacts")
    assert client.calls == 1
    assert f"connection refused (nothing listens there): check base_url ({url})" in str(
        caught.value)
    assert "rate_limit" not in str(caught.value) and "secret-key" not in str(caught.value)


def test_a_ca_bundle_that_is_no_file_stops_before_any_call(tmp_path: Path) -> None:
    with pytest.raises(AutopilotUnreachable, match="ca_bundle is .* which is no file"):
        AutopilotClient("https://api2.autopilothq.com/v1", "k", str(tmp_path / "none.pem"))


def test_the_cli_ends_in_one_line(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": "secret-key", "base_url": refused_url()}))
    lines = [{"type": "SCHEMA", "stream": "contacts", "key_properties": [],
              "schema": {"properties": {"Email": {"type": "string"}}}},
             {"type": "RECORD", "stream": "contacts", "record": {"Email": "a@x.io"}},
             {"type": "STATE", "value": {"bookmarks": {}}}]
    script = Path(sys.executable).parent / "target-autopilot"
    done = subprocess.run([str(script), "--config", str(config)],
                          input="".join(json.dumps(m) + "\n" for m in lines),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "connection refused" in errors[0] and "base_url" in errors[0]
