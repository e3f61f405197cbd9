"""ActiveCampaign paging: `limit`/`offset` everywhere, `id_greater` keyset on `/contacts`."""

from __future__ import annotations

import requests
from singer_sdk.pagination import BaseAPIPaginator, OffsetPaginator

PAGE_SIZE = 100  # the API's maximum


def _rows(response: requests.Response, key: str) -> list:
    body = response.json()
    rows = body.get(key) if isinstance(body, dict) else None
    return rows if isinstance(rows, list) else []


class LimitOffsetPaginator(OffsetPaginator):
    """`offset` steps by the page size until a page comes back short or `meta.total` is read."""

    def __init__(self, key: str, page_size: int = PAGE_SIZE) -> None:
        super().__init__(0, page_size)
        self.key = key

    def has_more(self, response: requests.Response) -> bool:
        rows = _rows(response, self.key)
        total = (response.json().get("meta") or {}).get("total")
        if total is not None and str(total).isdigit():
            return self.current_value + len(rows) < int(total) and len(rows) > 0
        return len(rows) >= self.page_size


class IdKeysetPaginator(BaseAPIPaginator[int | None]):
    """`orders[id]=ASC&id_greater=<last id of the page>`: what the vendor advises for large sets,
    and stable while contacts are added or change (offsets shift, ids do not)."""

    def __init__(self, key: str = "contacts", page_size: int = PAGE_SIZE) -> None:
        super().__init__(None)
        self.key = key
        self.page_size = page_size

    def has_more(self, response: requests.Response) -> bool:
        return len(_rows(response, self.key)) >= self.page_size

    def get_next(self, response: requests.Response) -> int | None:
        rows = _rows(response, self.key)
        last = int(rows[-1]["id"]) if rows else None
        if last is not None and self.current_value is not None and last <= self.current_value:
            raise RuntimeError(f"ActiveCampaign paging went backwards (id {last} after "
                               f"{self.current_value}): stopping rather than loop")
        return last
