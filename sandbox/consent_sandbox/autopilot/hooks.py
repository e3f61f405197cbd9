"""REST hook delivery: POST each event to every hook registered for it, off the request path."""

from __future__ import annotations

import ipaddress
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests

from .store import Store

log = logging.getLogger("consent_sandbox.autopilot.hooks")
EVENTS = ("contact_added", "contact_updated", "contact_unsubscribed", "contact_added_to_list",
          "contact_removed_from_list", "contact_entered_segment", "contact_left_segment")
ATTEMPTS = 3
BACKOFF_SECONDS = 0.2


def is_loopback_url(url: str) -> bool:
    """The sandbox only ever calls this machine's loopback addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class HookDelivery:
    """One worker thread delivers in order; `delivered` keeps what was accepted and `dropped`
    what failed every try, for tests."""

    def __init__(self, store: Store, db_path: Path, read: Callable[[dict], dict]) -> None:
        self.store = store
        self.db_path = db_path
        self.read = read  # the contact as the API reads it (with its lists)
        self.queue: queue.Queue[tuple[str, str, str, dict]] = queue.Queue()
        self.delivered: list[dict] = []
        self.dropped: list[dict] = []  # every try failed: Autopilot gives the event up
        threading.Thread(target=self._worker, name="autopilot-hooks", daemon=True).start()

    def fire(self, events: list[str], contact: dict, notify: bool = True) -> None:
        if not notify or not events:
            return
        view = self.read(contact)
        for event in events:
            for hook in self.store.hooks(event):
                self.queue.put((hook["hook_id"], hook["target_url"], event, view))

    def forget(self) -> None:
        """Drop what is still queued and what was delivered (a reset)."""
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.delivered.clear()
        self.dropped.clear()

    def _worker(self) -> None:
        session = requests.Session()
        session.trust_env = False  # loopback only, never through a proxy
        # its own connection: the event loop's one may be inside a transaction right now
        db = sqlite3.connect(self.db_path, timeout=10, isolation_level=None)
        while True:
            hook_id, url, event, contact = self.queue.get()
            body = {"event": event, "contact_id": contact.get("contact_id"),
                    "email": contact.get("Email"), "contact": contact}
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    status = session.post(url, json=body, timeout=5).status_code
                except requests.RequestException as exc:
                    log.info("hook %s: %s failed (%s)", hook_id, event, type(exc).__name__)
                    status = 0
                if status == 410:  # the receiver is gone for good: Autopilot drops the hook
                    db.execute("DELETE FROM hooks WHERE hook_id = ?", (hook_id,))
                    break
                if 200 <= status < 300:
                    self.delivered.append({
                        "hook_id": hook_id, "event": event, "target_url": url,
                        "contact_id": contact.get("contact_id"), "email": contact.get("Email"),
                        "attempts": attempt})
                    break
                if attempt < ATTEMPTS:
                    time.sleep(BACKOFF_SECONDS * attempt)
                else:
                    self.dropped.append({
                        "hook_id": hook_id, "event": event, "target_url": url,
                        "contact_id": contact.get("contact_id"), "email": contact.get("Email"),
                        "attempts": attempt, "last_status": status})
