"""Unit tests of the writer's batching, with a stand-in for the HTTP client (no network)."""

from __future__ import annotations

from target_activecampaign.writer import MAX_IMPORT, ContactWriter


class RecordingClient:
    """Answers like ActiveCampaign and keeps what was sent."""

    max_retries = 0

    def __init__(self) -> None:
        self.imports: list[list[dict]] = []

    def pages(self, path: str, key: str, params: dict | None = None) -> list[dict]:
        return [{"id": "1", "name": "Newsletter"}, {"id": "2", "name": "Events"}] \
            if key == "lists" else [{"id": "7", "title": "Bio", "perstag": "BIO"}]

    def request(self, method: str, path: str, json: object = None, params: dict | None = None,
                ok_statuses: tuple = ()) -> dict:
        if path == "/import/bulk_import":
            self.imports.append(json["contacts"])
            return {"success": 1, "batchId": str(len(self.imports))}
        return {"status": "completed", "success": [], "failure": []}


def test_batches_stay_under_250_contacts_and_400000_bytes():
    client = RecordingClient()
    writer = ContactWriter(client, poll_seconds=0)
    writer.write([{"email": f"p{n}@example.com", "fields": {"bio": "x" * 3000}}
                  for n in range(300)])
    assert writer.written == 300 and not writer.failures
    assert all(len(rows) <= MAX_IMPORT for rows in client.imports)
    assert all(len(str(rows)) < 400_000 for rows in client.imports)
    assert client.imports[0][0]["fields"] == [{"id": 7, "value": "x" * 3000}]


def test_unsubscribe_names_every_list_once_and_repeats_flush_in_order():
    client = RecordingClient()
    writer = ContactWriter(client, poll_seconds=0)
    writer.write([{"email": "a@example.com", "lists": ["Events"]},
                  {"email": "A@example.com", "unsubscribed": True}])
    first, second = client.imports
    assert first == [{"email": "a@example.com", "subscribe": [{"listid": "2"}]}]
    assert second == [{"email": "A@example.com",
                       "unsubscribe": [{"listid": "1"}, {"listid": "2"}]}]
