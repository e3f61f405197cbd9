"""What a failed connection means, in one line naming the setting to check, and whether another
try could help.

Retried: timeouts and dropped connections (a busy or restarting API, a flaky network).
Not retried, because the same call a few seconds later fails the same way:
- a TLS certificate the client does not trust, or a handshake that fails (no TLS at that port);
- a host name that does not resolve (except the resolver's own "try again", EAI_AGAIN);
- a refused connection: the real APIs sit behind load balancers that accept connections
  whenever their host resolves, so a refusal means the URL's host or port is wrong (or a local
  proxy is down); the next scheduled run is the retry.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

CA_HINT = ("the PEM file of the certificate authority that signed the server's certificate; "
           "unset it to trust the system's authorities")


@dataclass(frozen=True)
class ConnectionProblem:
    message: str
    retriable: bool


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception it wraps (urllib3's reason, args, causes and contexts)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__,
                  *current.args]
        todo.extend(e for e in linked if isinstance(e, BaseException))


def _where(url: str) -> str:
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def connection_problem(exc: BaseException, *, service: str, url_setting: str, url: str,
                       ca_setting: str = "ca_bundle") -> ConnectionProblem | None:
    """One line for a failed connection to `url`, or None when `exc` is no connection failure.

    `url` is the address the setting gave (never a full request URL, which may carry a key).
    """
    where = f"{service} at {_where(url)}"
    chain = list(_chain(exc))
    if isinstance(exc, OSError) and "CA certificate bundle" in str(exc):
        return ConnectionProblem(f"{ca_setting} names no readable file ({exc}): set it to "
                                 f"{CA_HINT}", retriable=False)
    if isinstance(exc, requests.exceptions.SSLError):
        verify = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
        if verify is not None:
            why = verify.verify_message or "certificate verify failed"
            return ConnectionProblem(
                f"{where}: its TLS certificate is not trusted ({why}): check {ca_setting} "
                f"({CA_HINT}) and that {url_setting} ({url}) is the API's address",
                retriable=False)
        if "NO_CERTIFICATE_OR_CRL_FOUND" in str(exc) or "PEM lib" in str(exc):
            return ConnectionProblem(f"{ca_setting} holds no certificate: set it to {CA_HINT}",
                                     retriable=False)
        return ConnectionProblem(
            f"{where}: the TLS handshake failed ({_ssl_reason(chain)}): check that "
            f"{url_setting} ({url}) is the API's https:// address (nothing there speaks TLS)",
            retriable=False)
    if isinstance(exc, requests.Timeout):
        return ConnectionProblem(
            f"{where}: no answer in time ({type(exc).__name__}); if this lasts, check "
            f"{url_setting} ({url}) and the network", retriable=True)
    if not isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return None
    resolve = next((e for e in chain if isinstance(e, socket.gaierror)), None)
    if resolve is not None or any(type(e).__name__ == "NameResolutionError" for e in chain):
        if resolve is not None and resolve.errno == socket.EAI_AGAIN:
            return ConnectionProblem(f"{where}: the name server did not answer; if this lasts, "
                                     f"check {url_setting} ({url}) and DNS", retriable=True)
        return ConnectionProblem(f"{where}: no such host: check {url_setting} ({url})",
                                 retriable=False)
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "[Errno 111]" in str(exc):
        return ConnectionProblem(
            f"{where}: connection refused (nothing listens there): check {url_setting} "
            f"({url}), its host and port", retriable=False)
    return ConnectionProblem(
        f"{where}: the connection failed ({_last_words(chain)}); if this lasts, check "
        f"{url_setting} ({url}) and the network", retriable=True)


def raise_connection_problem(exc: BaseException, *, service: str, url_setting: str, url: str,
                             fatal: type[Exception], retriable: type[Exception]) -> None:
    """Raise `exc` again as `fatal` or `retriable` with its one line (for a client whose retry
    loop knows those two kinds, as singer-sdk's streams do); return when it is no connection
    failure, so that the caller raises it as it is."""
    failed = connection_problem(exc, service=service, url_setting=url_setting, url=url)
    if failed is None:
        return
    if not failed.retriable:
        raise fatal(failed.message) from None
    raise retriable(failed.message) from exc


def _ssl_reason(chain: list[BaseException]) -> str:
    for e in chain:
        if isinstance(e, ssl.SSLError) and e.reason:
            return str(e.reason).replace("_", " ").lower()
    return "SSL error"


def _last_words(chain: list[BaseException]) -> str:
    innermost = chain[-1]
    return f"{type(innermost).__name__}: {innermost}"[:160]


def check_ca_bundle(path: str | None, setting: str = "ca_bundle") -> str | None:
    """Why the `ca_bundle` setting cannot work (missing, unreadable, no certificate), else None."""
    if not path:
        return None
    file = Path(path)
    if not file.is_file():
        return f"{setting} is {path!r}, which is no file: set it to {CA_HINT}"
    try:
        ssl.create_default_context(cafile=str(file))
    except (OSError, ssl.SSLError) as exc:
        return f"{setting} is {path!r}, which holds no usable certificate ({exc}): set it to " \
               f"{CA_HINT}"
    return None
