"""Webhook deliveries: form-encoded POSTs with bracketed keys, from a worker thread.

ActiveCampaign sends `type=unsubscribe&date_time=...&initiated_from=public&list=1&
contact[id]=7&contact[email]=...`; a 410 answer disables the hook. Only loopback targets are
accepted by `POST /webhooks`, so nothing leaves the machine.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import threading
import time
from collections.abc import Callable
from urllib.parse import urlparse

import requests

from .store import account_time

log = logging.getLogger("consent_sandbox.activecampaign.hooks")
EVENTS = ("subscribe", "unsubscribe", "bounce", "update", "contact_tag_added",
          "contact_tag_removed", "sent", "open", "click")
SOURCES = ("public", "admin", "api", "system")
ATTEMPTS = 3


def is_loopback_url(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    if parsed.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parsed.hostname).is_loopback
    except ValueError:
        return False


def form_body(event: str, source: str, contact: dict, list_id: int | None) -> dict[str, str]:
    body = {"type": event, "date_time": account_time(), "initiated_from": source,
            "initiated_by": source, "contact[id]": str(contact["id"]),
            "contact[email]": contact.get("email") or "",
            "contact[first_name]": contact.get("firstName") or "",
            "contact[last_name]": contact.get("lastName") or "",
            "contact[phone]": contact.get("phone") or ""}
    if list_id is not None:
        body["list"] = str(list_id)
    return body


class HookDelivery:
    def __init__(self, hooks: Callable[[], list[dict]], disable: Callable[[int], None]) -> None:
        self._hooks = hooks
        self._disable = disable
        self.queue: queue.Queue = queue.Queue()
        self.delivered: list[dict] = []
        threading.Thread(target=self._worker, daemon=True, name="ac-webhooks").start()

    def fire(self, event: str, source: str, contact: dict, list_id: int | None = None) -> None:
        for hook in self._hooks():
            if event not in hook.get("events", []) or source not in hook.get("sources", []):
                continue
            if hook.get("listid") not in (None, "0", 0) and str(hook["listid"]) != str(list_id):
                continue
            self.queue.put((hook["id"], hook["url"], form_body(event, source, contact, list_id)))

    def forget(self) -> None:
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.delivered.clear()

    def _worker(self) -> None:
        session = requests.Session()
        session.trust_env = False  # loopback only, never through a proxy
        while True:
            hook_id, url, body = self.queue.get()
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    status = session.post(url, data=body, timeout=5).status_code
                except requests.RequestException as exc:
                    log.info("webhook %s failed (%s)", hook_id, type(exc).__name__)
                    status = 0
                if status == 410:
                    self._disable(hook_id)
                    break
                if 200 <= status < 300:
                    self.delivered.append({"webhook": str(hook_id), "url": url,
                                           "attempts": attempt, **body})
                    break
                if attempt < ATTEMPTS:
                    time.sleep(0.2 * attempt)
