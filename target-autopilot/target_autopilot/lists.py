"""Autopilot lists by name: looked up once per run, created when missing."""

from __future__ import annotations

from urllib.parse import quote

from .client import AutopilotClient, AutopilotRejected


class Lists:
    def __init__(self, client: AutopilotClient) -> None:
        self.client = client
        self.ids: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        body = self.client.request("GET", "/lists") or {}
        self.ids = {row["title"]: row["list_id"] for row in body.get("lists", [])}
        return self.ids

    def id_of(self, title: str) -> str:
        ids = self.ids if self.ids is not None else self._load()
        if title not in ids:
            try:
                ids[title] = self.client.request("POST", "/list", json={"name": title})["list_id"]
            except AutopilotRejected as exc:
                if exc.status != 409:
                    raise
                ids = self._load()  # created meanwhile by someone else
        return ids[title]

    def add(self, title: str, email: str) -> None:
        self.client.request("POST", f"/list/{self.id_of(title)}/contact/{quote(email)}")

    def remove(self, title: str, email: str) -> None:
        self.client.request("DELETE", f"/list/{self.id_of(title)}/contact/{quote(email)}",
                            ok_statuses=(404,))
