"""Registering Autopilot REST hooks for a receiver: `GET /hooks`, `POST /hook`, `DELETE /hook/{id}`.

Idempotent: a hook with the same event and target URL is reused, so registering on every start
creates nothing new. A hook of this receiver's public URL with another secret (a rotated one) is
deleted, so Autopilot stops posting to an address that now answers 404.
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from api_pacing import FatalError, check_ca_bundle, connection_problem, shared_bucket

EVENTS = ("contact_added", "contact_updated", "contact_unsubscribed", "contact_added_to_list",
          "contact_removed_from_list")
PATH_PREFIX = "/autopilot-hooks/"


class HookApiError(FatalError):
    """Autopilot refused a hook call, or could not be reached: the message says which setting."""


def target_url(public_url: str, secret: str) -> str:
    return f"{public_url.rstrip('/')}{PATH_PREFIX}{quote(secret, safe='')}"


class HookApi:
    def __init__(self, base_url: str, api_key: str, ca_bundle: str | None = None,
                 rate_limit_per_second: float = 5) -> None:
        self.base_url = base_url.rstrip("/")
        bad_ca = check_ca_bundle(ca_bundle)
        if bad_ca:
            raise HookApiError(bad_ca)
        self.session = requests.Session()
        self.session.headers.update({"autopilotapikey": api_key})
        if ca_bundle:
            self.session.verify = ca_bundle
            self.session.trust_env = False  # REQUESTS_CA_BUNDLE would replace ca_bundle
        self.bucket = shared_bucket(rate_limit_per_second)

    def call(self, method: str, path: str, **kwargs: object) -> requests.Response:
        self.bucket.wait()
        try:
            response = self.session.request(method, f"{self.base_url}{path}", timeout=30,
                                            **kwargs)  # type: ignore[arg-type]
        except (requests.ConnectionError, requests.Timeout) as exc:
            # registering runs at the receiver's start: it fails at once, whatever the cause
            failed = connection_problem(exc, service="Autopilot", url_setting="base_url",
                                        url=self.base_url)
            raise HookApiError(failed.message if failed else str(exc)) from None
        if response.status_code >= 400 and not (method == "DELETE"
                                                and response.status_code == 404):
            detail = response.text[:200]  # Autopilot's error body: never the key
            hint = "; check api_key" if response.status_code in (401, 403) else ""
            raise HookApiError(f"Autopilot answered {response.status_code} to {method} {path}: "
                               f"{detail}{hint}")
        return response

    def hooks(self) -> list[dict]:
        body = self.call("GET", "/hooks").json()
        rows = body.get("hooks", []) if isinstance(body, dict) else body
        return [row for row in rows or [] if isinstance(row, dict)]


def register(base_url: str, api_key: str, target: str, ca_bundle: str | None = None,
             events: tuple[str, ...] = EVENTS) -> list[str]:
    """The hook ids for `events` posting to `target`, created only where missing."""
    api = HookApi(base_url, api_key, ca_bundle)
    ours = target.rsplit(PATH_PREFIX, 1)[0] + PATH_PREFIX
    existing = api.hooks()
    ids = []
    for event in events:
        same = [h for h in existing if h.get("event") == event and h.get("target_url") == target]
        if same:
            ids.append(str(same[0]["hook_id"]))
        else:
            ids.append(str(api.call("POST", "/hook", json={"event": event,
                                                           "target_url": target}
                                    ).json()["hook_id"]))
    for hook in existing:  # this receiver's hooks with a secret no longer in use
        url = str(hook.get("target_url") or "")
        if url.startswith(ours) and url != target:
            api.call("DELETE", f"/hook/{quote(str(hook['hook_id']), safe='')}")
    return ids


def unregister(base_url: str, api_key: str, public_url: str, ca_bundle: str | None = None) -> int:
    """Delete every hook posting to this receiver's public URL; how many."""
    api = HookApi(base_url, api_key, ca_bundle)
    ours = f"{public_url.rstrip('/')}{PATH_PREFIX}"
    gone = 0
    for hook in api.hooks():
        if str(hook.get("target_url") or "").startswith(ours):
            api.call("DELETE", f"/hook/{quote(str(hook['hook_id']), safe='')}")
            gone += 1
    return gone
