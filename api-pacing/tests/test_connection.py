"""Failed connections over real loopback sockets: the message names the setting to check, and
only failures another try could get past are retriable."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from api_pacing import (
    FatalError,
    check_ca_bundle,
    connection_problem,
    one_line_exit,
    raise_connection_problem,
)

trustme = pytest.importorskip("trustme")


def _serve(listener: socket.socket, wrap: ssl.SSLContext | None) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        try:
            if wrap is not None:
                conn = wrap.wrap_socket(conn, server_side=True)
            conn.recv(4096)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        except (OSError, ssl.SSLError):
            pass  # the client gave up on the handshake, as it should
        finally:
            conn.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server(wrap: ssl.SSLContext | None) -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_serve, args=(listener, wrap), daemon=True).start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture(scope="module")
def tls_url(ca: trustme.CA) -> Iterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    yield from _server(context)


@pytest.fixture(scope="module")
def plain_url() -> Iterator[str]:
    yield from _server(None)  # plain TCP where https:// was expected


@pytest.fixture
def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}"  # closed again: nothing listens


def failure(url: str, verify: str | bool = True) -> requests.RequestException:
    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.RequestException) as caught:
        session.get(f"{url}/v1/contacts", verify=verify, timeout=10)
    return caught.value


def problem(exc: BaseException, url: str):  # noqa: ANN201
    found = connection_problem(exc, service="Autopilot", url_setting="base_url", url=url)
    assert found is not None
    return found


def test_a_trusted_certificate_answers(tls_url: str, ca: trustme.CA, tmp_path: Path) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    session = requests.Session()
    session.trust_env = False
    assert session.get(tls_url, verify=str(tmp_path / "ca.pem"), timeout=10).json() == {}


def test_an_untrusted_certificate_names_ca_bundle_and_is_not_retried(
        tls_url: str, tmp_path: Path) -> None:
    other = trustme.CA()
    other.cert_pem.write_to_path(str(tmp_path / "other.pem"))
    found = problem(failure(tls_url, str(tmp_path / "other.pem")), tls_url)
    assert not found.retriable
    assert "TLS certificate is not trusted" in found.message
    assert "check ca_bundle" in found.message and "base_url" in found.message
    assert "rate_limit" not in found.message and "\n" not in found.message


def test_no_tls_at_the_port_names_the_url_setting(plain_url: str) -> None:
    found = problem(failure(plain_url), plain_url)
    assert not found.retriable
    assert "TLS handshake failed" in found.message
    assert f"check that base_url ({plain_url}) is the API's https:// address" in found.message


def test_a_refused_connection_names_the_url_and_is_not_retried(refused_url: str) -> None:
    found = problem(failure(refused_url), refused_url)
    assert not found.retriable
    assert found.message.endswith(f"connection refused (nothing listens there): check base_url "
                                  f"({refused_url}), its host and port")


def test_an_unknown_host_names_the_url_setting() -> None:
    url = "https://no-such-host.invalid/v1"
    found = problem(failure(url), url)
    assert not found.retriable
    assert found.message == (f"Autopilot at no-such-host.invalid:443: no such host: check "
                             f"base_url ({url})")


def test_a_timeout_is_retried() -> None:
    found = problem(requests.ConnectTimeout("connect timed out"), "https://api.example/v1")
    assert found.retriable and "base_url" in found.message


def test_an_http_error_is_no_connection_problem() -> None:
    assert connection_problem(requests.HTTPError("500"), service="X", url_setting="base_url",
                              url="https://api.example") is None


class Stop(Exception):
    pass


class Again(Exception):
    pass


def test_a_connection_failure_is_raised_again_as_the_callers_kind() -> None:
    kinds = {"service": "Autopilot", "url_setting": "base_url", "url": "https://api.example/v1",
             "fatal": Stop, "retriable": Again}
    with pytest.raises(Again, match="no answer in time") as again:
        raise_connection_problem(requests.ConnectTimeout("connect timed out"), **kinds)
    assert isinstance(again.value.__cause__, requests.ConnectTimeout)
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    with pytest.raises(Stop, match="connection refused") as stop:
        raise_connection_problem(refused, **kinds)
    assert stop.value.__cause__ is None  # one line: nothing chained under it
    assert raise_connection_problem(requests.HTTPError("500"), **kinds) is None


def test_ca_bundle_checks(tmp_path: Path, ca: trustme.CA) -> None:
    assert check_ca_bundle(None) is None
    assert "is no file" in str(check_ca_bundle(str(tmp_path / "missing.pem")))
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    assert "holds no usable certificate" in str(check_ca_bundle(str(tmp_path / "junk.pem")))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    assert check_ca_bundle(str(tmp_path / "ca.pem")) is None


def test_one_line_exit_logs_the_message_alone(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("plugin-under-test")
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as exited:
        with one_line_exit(logger):
            raise FatalError("Autopilot at h:1: connection refused:\n check base_url")
    assert exited.value.code == 1
    assert [r.getMessage() for r in caplog.records] == [
        "Autopilot at h:1: connection refused: check base_url"]
    assert caplog.records[0].exc_info is None
