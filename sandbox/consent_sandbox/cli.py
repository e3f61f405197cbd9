"""``consent-sandbox``: serve the Salesforce and Autopilot stand-ins."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from .settings import DEMO_SYSTEMS, SandboxSettings

PORT_HELP = "0 picks a free port; `start` picks one too when this one is taken (`serve` fails)"
# serve options a detached `start` passes through to `serve`
SERVE_OPTIONS: list[tuple[str, type, object, str]] = [
    ("--salesforce-port", int, 8443, PORT_HELP),
    ("--autopilot-port", int, 8444, PORT_HELP),
    ("--activecampaign-port", int, 8445, PORT_HELP),
    ("--demo-size", int, 0, "persons of demo data loaded into empty stores (0 starts empty)"),
    ("--demo-seed", int, 7, "seed of the demo data"),
    ("--demo-systems", str, ",".join(DEMO_SYSTEMS),
     "comma-separated stand-ins the demo data goes into; `salesforce` alone leaves the marketing "
     "platforms empty, as before a first sync"),
    ("--token-ttl", int, 7200, "seconds a Salesforce access token lives"),
    ("--daily-api-limit", int, 100_000, "Salesforce DailyApiRequests allowance"),
    ("--bulk-pending-polls", int, 1,
     "reads of a Salesforce Bulk job's info that say InProgress before its outcome shows"),
    ("--autopilot-rate-limit", float, 5.0,
     "Autopilot requests a second before 429 (documented 5)"),
    ("--activecampaign-rate-limit", float, 5.0,
     "ActiveCampaign requests a second before 429 (documented 5)"),
    ("--activecampaign-list-status-moves-udate", str, "false",
     "true: a list-status change also moves the contact's udate (unconfirmed in the real API)"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="consent-sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "serve": "serve both APIs over HTTPS on 127.0.0.1 in the foreground",
        "start": "serve in the background unless already running, and wait until ready",
        "stop": "stop the background sandbox",
        "status": "print the API calls each stand-in has served",
        "env": "print `export` lines with the running sandbox's ports and CA bundle, for "
               "meltano.yml's `sandbox` environment: eval \"$(consent-sandbox env)\"",
    }
    for name, help_text in commands.items():
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--state-dir", type=Path, default=Path(".sandbox"),
                             help="where the stores, ca.pem and endpoints.json live")
        if name in ("serve", "start"):
            for flag, kind, default, flag_help in SERVE_OPTIONS:
                command.add_argument(flag, type=kind, default=default, help=flag_help)
    return parser


def _settings(args: argparse.Namespace) -> SandboxSettings:
    return SandboxSettings(
        state_dir=args.state_dir,
        salesforce_port=args.salesforce_port,
        autopilot_port=args.autopilot_port,
        demo_size=args.demo_size,
        demo_seed=args.demo_seed,
        demo_systems=_demo_systems(args.demo_systems),
        token_ttl_seconds=args.token_ttl,
        daily_api_limit=args.daily_api_limit,
        bulk_pending_polls=args.bulk_pending_polls,
        autopilot_rate_limit=args.autopilot_rate_limit,
        activecampaign_port=args.activecampaign_port,
        activecampaign_rate_limit=args.activecampaign_rate_limit,
        activecampaign_list_status_moves_udate=(
            args.activecampaign_list_status_moves_udate.lower() in ("1", "true", "yes")),
    )


def _demo_systems(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in DEMO_SYSTEMS]
    if unknown:
        raise SystemExit(f"consent-sandbox: --demo-systems: unknown {', '.join(unknown)}; "
                         f"choose from {', '.join(DEMO_SYSTEMS)}")
    return names


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    from . import control  # imported late so --help stays fast

    if args.command == "serve":
        from .server import serve

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        try:
            asyncio.run(serve(_settings(args)))
        except KeyboardInterrupt:
            pass
    elif args.command == "start":
        def value(flag: str) -> object:
            return getattr(args, flag[2:].replace("-", "_"))

        port_flags = set(control.APIS.values())
        passthrough = [f"{flag}={value(flag)}" for flag, *_ in SERVE_OPTIONS
                       if flag not in port_flags]
        ports = {api: int(value(flag)) for api, flag in control.APIS.items()}
        control.start(args.state_dir, passthrough, ports)
    elif args.command == "stop":
        control.stop(args.state_dir)
    elif args.command == "env":
        print("\n".join(control.env_lines(args.state_dir)))
    else:
        control.status(args.state_dir)


if __name__ == "__main__":
    main()
