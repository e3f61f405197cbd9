"""`consent-ledger`: read the consent ledger: a person's history, the pending writes, the last runs.

Meltano runs it as `meltano invoke consent-mapper:history a@x.io` (and `:pending`, `:last-run`);
the ledger URL comes from `--ledger-url`, else `CONSENT_MAPPER_LEDGER_URL`, else the project's
default SQLite file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from consent_mapper.addresses import InvalidEmail, normalize_email
from consent_mapper.ledger.store import Ledger
from consent_mapper.ledger.transfer import TargetNotEmpty, copy_ledger
from consent_mapper.rules import PLATFORM, RecordKey, RecordMemory
from consent_mapper.settings import default_ledger_url


def _state(value: bool | None) -> str:
    return {True: "opted out", False: "opted in", None: "unknown"}[value]


def history(ledger: Ledger, email: str) -> int:
    try:
        address = normalize_email(email)
    except InvalidEmail as exc:
        print(f"{email!r} is no valid address ({exc.reason})", file=sys.stderr)
        return 2
    with ledger.transaction(commit=False) as tx:
        person = tx.person(address)
        events = tx.history(address)
    print(f"{address}: agreed {_state(person.agreed)}"
          + (f", latest opt-out {person.opted_out_at}" if person.opted_out_at else ""))
    for key, record in sorted(person.records.items(), key=lambda kv: str(kv[0])):
        pending = "" if record.pending is None else f", pending write {_state(record.pending)}"
        flags = _flags(key, record)
        print(f"  {key.system} {key.object} {key.record_id}: observed "
              f"{_state(record.observed)}{pending}{flags}")
    if not events:
        print("  no decisions recorded")
    for event in events:
        change = f"{_state(event['old'])} -> {_state(event['new'])}"
        print(f"  {event['at']} run {event['run_id']} ({event['direction']}) {event['rule']}: "
              f"{change}; source {event['source'] or '-'}; {event['detail']}")
        for target in (event["targets"] or "").splitlines():
            print(f"      wrote {target}")
    return 0


def _flags(key: RecordKey, record: RecordMemory) -> str:
    if not record.live:
        return (f" (deleted; the deletion sent in run {record.deleted_run} not yet known "
                "written)" if record.deleted_run is not None else " (deleted)")
    if record.selected:
        return ""
    if key.role != PLATFORM:
        return " (out of selection)"
    if record.observed is None and record.native_id is None:
        return " (removal waiting for a read of it)"
    return f" (removal waiting for a read of {key.system} finished after the exit)"


def pending(ledger: Ledger) -> int:
    with ledger.transaction(commit=False) as tx:
        rows = tx.pending()
    for row in rows:
        print(f"{row['email']}: {row['system']} {row['object']} {row['record_id']} "
              f"pending {_state(row['pending'])} (sent after read #{row['pending_run']})")
    print(f"{len(rows)} pending write(s)")
    return 0


def last_run(ledger: Ledger) -> int:
    with ledger.transaction(commit=False) as tx:
        rows = tx.last_runs()
    for row in rows:
        summary = json.loads(row["summary"] or "{}")
        counts = ", ".join(f"{k}={v}" for k, v in sorted(summary.items()))
        print(f"run {row['id']} {row['direction']} {row['started_at']} -> {row['finished_at']}: "
              f"{counts}")
    if not rows:
        print("no finished run yet")
    return 0


def copy(source_url: str, target_url: str) -> int:
    try:
        copied = copy_ledger(source_url, target_url)
    except TargetNotEmpty as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print("copied " + ", ".join(f"{table}={n}" for table, n in copied.items())
          + ": set ledger_url to the new ledger before the next run")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="consent-ledger", description=__doc__.splitlines()[0])
    parser.add_argument("--ledger-url", default=os.environ.get("CONSENT_MAPPER_LEDGER_URL"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("history", help="a person's records and decisions").add_argument("email")
    sub.add_parser("pending", help="writes sent and not yet read back")
    sub.add_parser("last-run", help="the summary of the last run of each direction")
    sub.add_parser("copy", help="copy the whole ledger into a new, empty one (e.g. SQLite to "
                   "PostgreSQL for team mode)").add_argument("--to", required=True,
                                                            metavar="LEDGER_URL")
    args = parser.parse_args(argv)
    if args.command == "copy":
        return copy(args.ledger_url or default_ledger_url(), args.to)
    ledger = Ledger(args.ledger_url or default_ledger_url())
    try:
        if args.command == "history":
            return history(ledger, args.email)
        if args.command == "pending":
            return pending(ledger)
        return last_run(ledger)
    finally:
        ledger.close()


if __name__ == "__main__":
    sys.exit(main())
