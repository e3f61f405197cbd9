"""Lists: membership read only as far as the joins and leaves asked pay for (requests-mock)."""

from __future__ import annotations

import re

import pytest

from target_autopilot.client import AutopilotClient
from target_autopilot.lists import Lists

BASE = "https://autopilot.example/v1"
MEMBERS = [f"m{i}@x.io" for i in range(250)]


@pytest.fixture
def api(requests_mock):
    requests_mock.get(f"{BASE}/lists", json={"lists": [{"list_id": "cl_big", "title": "Big"}]})
    pages = {"": (0, "b1"), "/b1": (100, "b2"), "/b2": (200, None)}
    for suffix, (start, bookmark) in pages.items():
        body = {"contacts": [{"Email": e.upper()} for e in MEMBERS[start:start + 100]],
                "total_contacts": len(MEMBERS)}
        if bookmark:
            body["bookmark"] = bookmark
        requests_mock.get(f"{BASE}/list/cl_big/contacts{suffix}", json=body)
    requests_mock.post(re.compile(r"/v1/list/cl_big/contact/"), json={})
    requests_mock.delete(re.compile(r"/v1/list/cl_big/contact/"), json={})
    return requests_mock


def reads_and_writes(api) -> tuple[int, int]:
    reads = sum(1 for r in api.request_history if r.path.endswith(("/contacts", "/b1", "/b2")))
    writes = sum(1 for r in api.request_history if "/contact/" in r.path)
    return reads, writes


def lists() -> Lists:
    return Lists(AutopilotClient(BASE, "k", rate_limit_per_second=0, max_retries=0))


def test_members_seen_on_the_first_page_are_not_joined_again(api):
    big = lists()
    assert big.add("Big", "m5@x.io") is False  # on page 1, matched case-blind
    assert big.add("Big", "m150@x.io") is True  # not seen yet: joined
    assert reads_and_writes(api) == (1, 1)


def test_the_rest_is_read_once_the_asks_reach_the_page_count(api):
    big = lists()
    results = [big.add("Big", e) for e in ("m150@x.io", "m151@x.io", "m152@x.io", "m249@x.io",
                                           "new@x.io")]
    assert results == [True, True, False, False, True]
    assert reads_and_writes(api) == (3, 3)  # vs 5 joins blind; 10,000 re-sent: ~100 + 99


def test_leaving_is_skipped_only_when_the_whole_list_is_known(api):
    big = lists()
    assert big.remove("Big", "m200@x.io") is True  # only page 1 known: must ask Autopilot
    for e in ("m1@x.io", "m2@x.io"):
        big.add("Big", e)
    assert big.remove("Big", "stranger@x.io") is False  # all pages read: not a member
    assert big.remove("Nowhere", "m1@x.io") is False  # no such list: nothing to leave
    assert big.remove("Big", "m200@x.io") is False  # left earlier: a page read since is older
    assert reads_and_writes(api) == (3, 1)
