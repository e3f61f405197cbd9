"""Autopilot's bookmark paging: `GET /contacts`, then `GET /contacts/{bookmark}`."""

from __future__ import annotations

import requests
from singer_sdk.pagination import BaseAPIPaginator


class PaginationLoopError(RuntimeError):
    """Autopilot handed out a bookmark it had already given in this scan."""


class BookmarkPaginator(BaseAPIPaginator[str | None]):
    """Follows the `bookmark` key of each page; the last page has none.

    Every bookmark of the scan is remembered: one that comes back (even after other pages) would
    page forever, so it stops the run with an error instead of finishing a partial scan, which
    would move the stream's bookmark past contacts never read.
    """

    def __init__(self, what: str = "contacts") -> None:
        super().__init__(None)
        self._what = what
        self._seen: set[str] = set()

    @staticmethod
    def _bookmark(response: requests.Response) -> str | None:
        body = response.json()
        bookmark = body.get("bookmark") if isinstance(body, dict) else None
        return str(bookmark) if bookmark not in (None, "") else None

    def has_more(self, response: requests.Response) -> bool:
        return self._bookmark(response) is not None

    def get_next(self, response: requests.Response) -> str | None:
        bookmark = self._bookmark(response)
        if bookmark is not None and bookmark in self._seen:
            raise PaginationLoopError(
                f"Autopilot returned the {self._what} bookmark {bookmark!r} a second time, after "
                f"{self.count} pages: its paging loops. The run stops rather than page forever; "
                "the stream's bookmark is not moved, so the next run scans again from the start."
            )
        if bookmark is not None:
            self._seen.add(bookmark)
        return bookmark

    def continue_if_empty(self, response: requests.Response) -> bool:
        # An empty page that still names a bookmark is not the end of the listing.
        return self.has_more(response)
