import json

import pytest
import requests

from tap_autopilot.pagination import BookmarkPaginator, PaginationLoopError


def page(body: object) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    return response


def test_follows_bookmarks_until_a_page_has_none():
    paginator = BookmarkPaginator()
    assert paginator.current_value is None
    paginator.advance(page({"contacts": [{}], "bookmark": "b1"}))
    assert paginator.current_value == "b1"
    paginator.advance(page({"contacts": [{}], "bookmark": "b2"}))
    assert paginator.current_value == "b2"
    assert not paginator.finished
    paginator.advance(page({"contacts": [{}], "total_contacts": 3}))
    assert paginator.finished


def test_empty_bookmark_ends_the_listing():
    paginator = BookmarkPaginator()
    paginator.advance(page({"contacts": [], "bookmark": ""}))
    assert paginator.finished


def test_an_empty_page_with_a_bookmark_does_not_end_the_listing():
    paginator = BookmarkPaginator()
    assert paginator.continue_if_empty(page({"contacts": [], "bookmark": "b1"}))
    assert not paginator.continue_if_empty(page({"contacts": []}))


@pytest.mark.parametrize("bookmarks", [["b1", "b1"], ["b1", "b2", "b1"]])
def test_a_repeated_bookmark_stops_with_a_clear_error(bookmarks):
    paginator = BookmarkPaginator("contacts")
    with pytest.raises(PaginationLoopError, match="bookmark 'b1' a second time.*loops"):
        for bookmark in bookmarks:
            paginator.advance(page({"contacts": [{}], "bookmark": bookmark}))
