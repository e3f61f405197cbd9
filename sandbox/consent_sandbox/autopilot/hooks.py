"""REST hook delivery: POST each event to every hook registered for it, off the request path."""

from __future__ import annotations

import logging
import queue
import threading
import time

import requests

from .store import Store

log = logging.getLogger("consent_sandbox.autopilot.hooks")
ATTEMPTS = 3


class HookDelivery:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.queue: queue.Queue[tuple[str, str, str, dict]] = queue.Queue()
        self.delivered: list[dict] = []
        self.gone: list[str] = []  # hooks that answered 410, to delete on the loop thread
        threading.Thread(target=self._worker, name="autopilot-hooks", daemon=True).start()

    def fire(self, events: list[str], contact: dict, notify: bool = True) -> None:
        if not notify or not events:
            return
        for event in events:
            for hook in self.store.hooks(event):
                self.queue.put((hook["hook_id"], hook["target_url"], event, contact))

    def _worker(self) -> None:
        session = requests.Session()
        session.trust_env = False  # loopback only, never through a proxy
        while True:
            hook_id, url, event, contact = self.queue.get()
            body = {"event": event, "contact_id": contact.get("contact_id"),
                    "email": contact.get("Email"), "contact": contact}
            for attempt in range(ATTEMPTS):
                try:
                    status = session.post(url, json=body, timeout=5).status_code
                except requests.RequestException:
                    status = 0
                if status == 410:
                    self.gone.append(hook_id)
                    break
                if 200 <= status < 300:
                    self.delivered.append({"hook_id": hook_id, "event": event,
                                           "email": contact.get("Email")})
                    break
                time.sleep(0.2 * (attempt + 1))
