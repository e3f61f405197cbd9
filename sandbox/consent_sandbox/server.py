"""Runs both API stand-ins in one process, each on its own loopback HTTPS port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from . import activecampaign, autopilot, salesforce
from .demo import demo_people
from .instrument import InstrumentMiddleware, Instruments
from .settings import HOST, SandboxSettings
from .tls import ensure_certificates

log = logging.getLogger("consent_sandbox")

ENDPOINTS_FILE = "endpoints.json"


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to `serve`, which stops both servers at once.

    Each uvicorn server installs its own SIGINT handler and re-raises the signal on exit; with two
    servers in one loop the second handler replaces the first and the process never stops.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that name it, and
    # without it every small response waits ~40 ms on Nagle's algorithm.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def endpoints_document(settings: SandboxSettings, sf_port: int, ap_port: int, ca: Path,
                       ac_port: int | None = None) -> dict:
    creds = settings.salesforce
    sf_url = f"https://{HOST}:{sf_port}"
    return {
        "salesforce": {
            "instance_url": sf_url,
            "login_url": sf_url,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "username": creds.username,
            "password": creds.password,
            "security_token": creds.security_token,
            "refresh_token": creds.refresh_token,
        },
        "autopilot": {
            "base_url": f"https://{HOST}:{ap_port}/v1",
            "api_key": settings.autopilot_api_key,
        },
        "activecampaign": {
            "base_url": f"https://{HOST}:{ac_port}/api/3",
            "api_token": settings.activecampaign_api_token,
        },
        "ca_bundle": str(ca.resolve()),
    }


async def serve(settings: SandboxSettings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    ca, server_pem = ensure_certificates(settings.state_dir)
    if settings.demo_size:
        people = demo_people(settings.demo_size, settings.demo_seed)
        for name, module in (("salesforce", salesforce), ("autopilot", autopilot),
                             ("activecampaign", activecampaign)):
            if name in settings.demo_systems:
                module.load_demo(settings, people)

    servers, sockets = [], []
    apis = ((salesforce, settings.salesforce_port), (autopilot, settings.autopilot_port),
            (activecampaign, settings.activecampaign_port))
    for module, port in apis:
        instruments = Instruments()
        app = InstrumentMiddleware(module.create_app(settings, instruments), instruments,
                                   module.render_error)
        config = uvicorn.Config(app, ssl_certfile=str(server_pem), log_level="warning",
                                access_log=False, lifespan="on", timeout_keep_alive=30,
                                # idle keep-alive clients must not hold a stop for long
                                timeout_graceful_shutdown=2)
        servers.append(_QuietServer(config))
        sockets.append(_bind(port))

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _stop_all, servers)

    pairs = zip(servers, sockets, strict=True)
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in pairs]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            await asyncio.gather(*tasks)
            return
        await asyncio.sleep(0.02)
    sf_port, ap_port, ac_port = (sock.getsockname()[1] for sock in sockets)
    doc = endpoints_document(settings, sf_port, ap_port, ca, ac_port)
    tmp = settings.state_dir / (ENDPOINTS_FILE + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2))
    tmp.replace(settings.state_dir / ENDPOINTS_FILE)  # readers never see half a file
    log.warning("sandbox ready: Salesforce %s, Autopilot %s, ActiveCampaign %s",
                doc["salesforce"]["instance_url"], doc["autopilot"]["base_url"],
                doc["activecampaign"]["base_url"])
    await asyncio.gather(*tasks)


def _stop_all(servers: list[uvicorn.Server]) -> None:
    for server in servers:
        if server.should_exit:
            server.force_exit = True  # a second signal: stop waiting for open connections
        server.should_exit = True
