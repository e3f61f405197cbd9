"""An Autopilot that cannot be reached (real loopback): one message naming base_url, no retry."""

from __future__ import annotations

import socket

import pytest
from singer_sdk.exceptions import FatalAPIError

from tap_autopilot.hook_receiver import main as hook_receiver
from tap_autopilot.tap import TapAutopilot


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{probe.getsockname()[1]}/v1"  # closed: nothing listens


def test_a_refused_base_url_stops_the_sync_naming_base_url() -> None:
    url = refused_url()
    tap = TapAutopilot(config={"api_key": "secret-key", "base_url": url})
    with pytest.raises(FatalAPIError) as caught:
        tap.sync_all()
    assert str(caught.value).endswith(f"connection refused (nothing listens there): check "
                                      f"base_url ({url}), its host and port")
    assert "rate_limit" not in str(caught.value)


def test_the_hook_receiver_says_which_setting(caplog: pytest.LogCaptureFixture) -> None:
    url = refused_url()
    with pytest.raises(SystemExit) as exited:
        hook_receiver(["register", "--secret", "s" * 20, "--public-url",
                       "https://hooks.example.com", "--api-key", "secret-key",
                       "--base-url", url])
    assert exited.value.code == 1
    assert f"check base_url ({url})" in caplog.text and "Traceback" not in caplog.text
