"""`autopilot-hook-receiver`: Autopilot's REST hooks into a durable event file for tap-autopilot.

    autopilot-hook-receiver serve      # register the hooks (when public_url is set), then listen
    autopilot-hook-receiver register   # only register (idempotent: same event and target reused)
    autopilot-hook-receiver unregister # delete this receiver's hooks

Autopilot signs nothing, so the target URL carries a shared secret in its path
(`<public_url>/autopilot-hooks/<secret>`): a POST to any other path is answered 404 and dropped.
Every accepted event is committed to the SQLite file before the 2xx goes out. The server listens
on 127.0.0.1 by default; put it behind your own ingress (a TLS reverse proxy forwarding
`https://hooks.example.com/autopilot-hooks/` to `http://127.0.0.1:8765/autopilot-hooks/`) and
set `public_url` to the outside address. Settings come from flags or the environment
(`AUTOPILOT_HOOK_RECEIVER_<SETTING>`, which is how Meltano passes a utility's settings).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

from api_pacing import one_line_exit

from .feed_store import EventStore
from .hook_registration import EVENTS, PATH_PREFIX, register, target_url, unregister

log = logging.getLogger("autopilot-hook-receiver")
MAX_BODY = 1_000_000  # a hook carries one contact
MIN_SECRET = 16
ENV = "AUTOPILOT_HOOK_RECEIVER_"


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: EventStore, secret: str) -> None:
        super().__init__(address, Handler)
        self.store = store
        self.secret = secret
        self.lock = threading.Lock()  # one writer on the SQLite connection


class Handler(BaseHTTPRequestHandler):
    server: Receiver
    # HTTP/1.0: one request a connection, so a stopped receiver answers nothing more (keep-alive
    # would be the ingress's job)
    protocol_version = "HTTP/1.0"

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        if urlsplit(self.path).path == "/healthz":
            self._answer(200, {"ok": True})
        else:
            self._answer(404, {"error": "Not Found"})

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        given = path[len(PATH_PREFIX):] if path.startswith(PATH_PREFIX) else ""
        if not hmac.compare_digest(given.encode(), quote(self.server.secret, safe="").encode()):
            self._drain()
            self._answer(404, {"error": "Not Found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._answer(413, {"error": "Payload Too Large"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            self._answer(400, {"error": "Bad Request", "message": "body is not JSON"})
            return
        event = body.get("event") if isinstance(body, dict) else None
        contact_id = body.get("contact_id") if isinstance(body, dict) else None
        if not isinstance(event, str) or not isinstance(contact_id, str) or not contact_id:
            self._answer(400, {"error": "Bad Request",
                               "message": "expected {event, contact_id, email}"})
            return
        email = body.get("email") if isinstance(body.get("email"), str) else None
        contact = body.get("contact") if isinstance(body.get("contact"), dict) else None
        try:
            with self.server.lock:
                event_id = self.server.store.append(event, contact_id, email, contact)
        except sqlite3.Error as exc:  # not stored: Autopilot retries a non-2xx answer
            log.error("event %s for %s not stored: %s", event, contact_id, exc)
            self._answer(503, {"error": "Service Unavailable"})
            return
        self._answer(200, {"ok": True, "id": event_id})

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= MAX_BODY:
            self.rfile.read(length)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        # the request line holds the secret: log the method and status only
        log.debug("%s %s", self.command, args[1] if len(args) > 1 else "")


def serve(store: EventStore, secret: str, host: str = "127.0.0.1", port: int = 8765) -> Receiver:
    """A started receiver (its own thread); `shutdown()` stops it."""
    store.started()
    server = Receiver((host, port), store, secret)
    threading.Thread(target=server.serve_forever, name="hook-receiver", daemon=True).start()
    return server


def _setting(args: argparse.Namespace, name: str, default: str | None = None) -> str | None:
    value = getattr(args, name, None)
    return value if value not in (None, "") else os.environ.get(ENV + name.upper(), default)


def _secret(args: argparse.Namespace) -> str:
    secret = _setting(args, "secret") or ""
    if len(secret) < MIN_SECRET:
        raise SystemExit(
            f"the secret must have at least {MIN_SECRET} characters (set {ENV}SECRET or "
            "--secret; e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return secret


def _api(args: argparse.Namespace) -> tuple[str, str, str | None]:
    api_key = _setting(args, "api_key")
    if not api_key:
        raise SystemExit(f"registering hooks needs the Autopilot API key ({ENV}API_KEY)")
    base_url = _setting(args, "base_url", "https://api2.autopilothq.com/v1") or ""
    return base_url, api_key, _setting(args, "ca_bundle")


def main(argv: Sequence[str] | None = None) -> None:
    with one_line_exit(log):
        _main(argv)


def _main(argv: Sequence[str] | None) -> None:
    parser = argparse.ArgumentParser(prog="autopilot-hook-receiver", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["serve", "register", "unregister"])
    for name in ("events_db", "secret", "public_url", "api_key", "base_url", "ca_bundle",
                 "host"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name)
    parser.add_argument("--port", type=int)
    parser.add_argument("--no-register", action="store_true",
                        help="serve without registering the hooks first")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    secret = _secret(args)
    public_url = _setting(args, "public_url")
    if args.command in ("register", "unregister"):
        if not public_url:
            raise SystemExit(f"{args.command} needs public_url ({ENV}PUBLIC_URL): the address "
                             "Autopilot posts to")
        base_url, api_key, ca_bundle = _api(args)
        if args.command == "register":
            ids = register(base_url, api_key, target_url(public_url, secret), ca_bundle)
            log.info("%d hooks registered for %s (%s)", len(ids), public_url, ", ".join(EVENTS))
        else:
            log.info("%d hooks deleted", unregister(base_url, api_key, public_url, ca_bundle))
        return
    events_db = _setting(args, "events_db")
    if not events_db:
        raise SystemExit(f"serve needs events_db ({ENV}EVENTS_DB): the SQLite file the tap's "
                         "events_db setting names")
    host = _setting(args, "host", "127.0.0.1") or "127.0.0.1"
    port = args.port or int(os.environ.get(ENV + "PORT") or 8765)
    store = EventStore(events_db)
    server = serve(store, secret, host, port)
    log.info("listening on http://%s:%d%s<secret>", host, server.server_address[1], PATH_PREFIX)
    if public_url and not args.no_register:
        base_url, api_key, ca_bundle = _api(args)
        register(base_url, api_key, target_url(public_url, secret), ca_bundle)
        log.info("hooks registered for %s", public_url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        store.close()


if __name__ == "__main__":
    main()
