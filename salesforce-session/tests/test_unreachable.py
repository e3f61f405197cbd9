"""A Salesforce that cannot be reached over real loopback: one message naming the setting, and
no retries for what another try cannot change."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from consentsync_salesforce import ConfigurationError, SalesforceSession, SalesforceUnreachable


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{probe.getsockname()[1]}"  # closed again: nothing listens


def config(**overrides: str) -> dict:
    return {"client_id": "consumer-key", "client_secret": "s3cret-value",
            "refresh_token": "refresh-value", "max_retries": 5, **overrides}


def test_a_refused_login_url_fails_at_once_naming_login_url() -> None:
    url, waits = refused_url(), []
    session = SalesforceSession(config(login_url=url), logging.getLogger("t"), sleep=waits.append)
    with pytest.raises(SalesforceUnreachable) as caught:
        session.describe("Lead")
    assert str(caught.value) == (f"Salesforce at {url.removeprefix('https://')}: connection "
                                 f"refused (nothing listens there): check login_url ({url}), "
                                 "its host and port")
    assert waits == []  # not retried
    assert "s3cret" not in str(caught.value)


def test_a_missing_ca_bundle_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ca_bundle is .*missing.pem', which is no file"):
        SalesforceSession(config(ca_bundle=str(tmp_path / "missing.pem")), logging.getLogger("t"))
