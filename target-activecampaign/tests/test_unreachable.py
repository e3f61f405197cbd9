"""An ActiveCampaign that cannot be reached (real loopback): one message naming api_url."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from target_activecampaign.client import Client, Unreachable


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{probe.getsockname()[1]}/api/3"  # closed: nothing listens


def test_a_refused_api_url_is_not_retried() -> None:
    url = refused_url()
    client = Client(url, "secret-token", rate_limit_per_second=0, max_retries=5)
    with pytest.raises(Unreachable) as caught:
        client.request("GET", "/lists")
    assert client.calls == 1
    assert f"connection refused (nothing listens there): check api_url ({url})" in str(
        caught.value)
    assert "rate_limit" not in str(caught.value) and "secret-token" not in str(caught.value)


def test_a_ca_bundle_that_is_no_file_stops_before_any_call(tmp_path: Path) -> None:
    with pytest.raises(Unreachable, match="ca_bundle is .* which is no file"):
        Client("https://acct.api-us1.com/api/3", "t", str(tmp_path / "none.pem"))
