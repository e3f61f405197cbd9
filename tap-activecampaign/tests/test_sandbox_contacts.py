"""The tap against the ActiveCampaign stand-in: records, incremental reads, and list-status
changes that do not move `udate` (an unsubscribe must never be missed)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("tap-activecampaign")

PEOPLE = [
    {"email": "ada@consent.example", "firstName": "Ada", "lastName": "Lovelace",
     "lists": {"Newsletter": "active", "Events": "active"}, "tags": ["customer"],
     "fields": {"Country": "France"}, "udate": "2024-01-01T00:00:00Z"},
    {"email": "grace@consent.example", "firstName": "Grace",
     "lists": {"Newsletter": "active", "Events": "unsubscribed"},
     "udate": "2024-01-01T00:00:00Z"},
    {"email": "alan@consent.example", "lists": {"Newsletter": "unsubscribed"},
     "udate": "2024-01-01T00:00:00Z"},
    {"email": "lonely@consent.example", "udate": "2024-01-01T00:00:00Z"},
]
# the newest contact: the bookmark lands on its second, which every later run reads again
MARKER = {"email": "marker@consent.example", "udate": "2024-06-01T00:00:00Z"}


def changed(run) -> dict[str, dict]:
    """Records of a run other than the re-read at the bookmark's second."""
    return {e: r for e, r in run.by_email().items() if e != MARKER["email"]}


@pytest.fixture(scope="module")
def seeded(sandbox, admin):
    admin(sandbox, "POST", "/reset")
    admin(sandbox, "POST", "/contacts", json=[*PEOPLE, MARKER])
    return sandbox


@pytest.fixture(scope="module")
def first(seeded, tmp_path_factory, run_tap, tap_config):
    return run_tap(tmp_path_factory.mktemp("first"), tap_config(seeded),
                   streams=("contacts", "lists"))


def test_full_read_emits_every_contact_with_lists_tags_and_fields(first):
    got = changed(first)
    assert set(got) == {p["email"] for p in PEOPLE}
    ada = got["ada@consent.example"]
    assert ada["first_name"] == "Ada" and ada["last_name"] == "Lovelace"
    assert {m["status"] for m in ada["lists"]} == {1} and len(ada["lists"]) == 2
    assert ada["tags"] == ["customer"]
    assert [(v["title"], v["value"]) for v in ada["field_values"]] == [("Country", "France")]
    assert ada["udate"] == "2024-01-01T00:00:00+00:00" and ada["bounced_hard"] == 0
    assert got["lonely@consent.example"]["lists"] == []
    assert got["grace@consent.example"]["lists"] == [
        {"list_id": "1", "status": 1, "updated_at": "2024-01-01T00:00:00+00:00"},
        {"list_id": "2", "status": 2, "updated_at": "2024-01-01T00:00:00+00:00"}]
    assert {r["name"] for r in first.records["lists"]} == {"Newsletter", "Events"}


def test_state_is_small_and_holds_the_list_sets(first):
    bookmark = first.state["bookmarks"]["contacts"]
    assert bookmark["replication_key_value"] == "2024-06-01T00:00:00+00:00"
    assert set(bookmark["list_sweep"]) == {"1:2", "1:3", "2:2", "2:3"}
    assert len(str(first.state)) < 1000


def only_reread(run, state: dict) -> bool:
    """A run emitted nothing but the contacts at the bookmark's second, read again on purpose."""
    bookmark = state["bookmarks"]["contacts"]["replication_key_value"]
    return all(r["udate"] == bookmark for r in run.records["contacts"])


@pytest.mark.parametrize("moves_udate", [False, True])
def test_an_unsubscribe_is_never_missed(seeded, first, admin, run_tap, tap_config, tmp_path,
                                        moves_udate):
    admin(seeded, "POST", "/settings", json={"list_status_moves_udate": moves_udate})
    try:
        base = run_tap(tmp_path / "base", tap_config(seeded), state=first.state)
        idle = run_tap(tmp_path / "idle", tap_config(seeded), state=base.state)
        assert only_reread(idle, base.state)
        admin(seeded, "POST", "/contacts/ada@consent.example/unsubscribe")
        after = run_tap(tmp_path / "after", tap_config(seeded), state=idle.state)
        assert {m["status"] for m in after.by_email()["ada@consent.example"]["lists"]} == {2}
        # and a re-subscription (back to active on one list) is read as well
        admin(seeded, "POST", "/contacts/ada@consent.example/subscribe", json={"list": "1"})
        again = run_tap(tmp_path / "again", tap_config(seeded), state=after.state)
        statuses = {m["list_id"]: m["status"]
                    for m in again.by_email()["ada@consent.example"]["lists"]}
        assert statuses == {"1": 1, "2": 2}
    finally:
        admin(seeded, "POST", "/settings", json={"list_status_moves_udate": False})
        admin(seeded, "POST", "/contacts/ada@consent.example/subscribe", json={"list": "2"})


def test_udate_mode_misses_what_sweep_mode_reads(seeded, first, admin, run_tap, tap_config,
                                                 tmp_path):
    """Why the sweep exists: with list-status changes that leave udate alone, the server-side
    filter alone does not see an unsubscribe."""
    state = run_tap(tmp_path / "base", tap_config(seeded), state=first.state).state
    admin(seeded, "POST", "/contacts/grace@consent.example/unsubscribe")
    blind = run_tap(tmp_path / "udate", tap_config(seeded, list_status_changes="udate"),
                    state=state)
    assert "grace@consent.example" not in blind.by_email()
    swept = run_tap(tmp_path / "sweep", tap_config(seeded), state=state)
    assert {m["status"] for m in swept.by_email()["grace@consent.example"]["lists"]} == {2}
    assert only_reread(swept, state) is False


def test_hard_bounce_and_profile_edit_are_read(seeded, first, admin, run_tap, tap_config,
                                               tmp_path):
    state = run_tap(tmp_path / "base", tap_config(seeded), state=first.state).state
    admin(seeded, "POST", "/contacts/lonely@consent.example/hardbounce")
    admin(seeded, "POST", "/contacts/alan@consent.example", json={"lastName": "Turing"})
    run = changed(run_tap(tmp_path / "next", tap_config(seeded), state=state))
    assert run["lonely@consent.example"]["bounced_hard"] == 1
    assert run["alan@consent.example"]["last_name"] == "Turing"


def test_bulk_read_gives_the_same_records(seeded, first, run_tap, tap_config, tmp_path):
    bulk = run_tap(tmp_path / "bulk", tap_config(seeded, detail_read_limit=-1,
                                                 start_date="2000-01-01T00:00:00Z"))
    detailed = run_tap(tmp_path / "one", tap_config(seeded,
                                                    start_date="2000-01-01T00:00:00Z"))

    def comparable(run):
        return {e: {**r, "lists": [{**m, "updated_at": None} for m in r["lists"]]}
                for e, r in run.by_email().items()}

    assert comparable(bulk) == comparable(detailed)
    assert len(bulk.records["contacts"]) == len(PEOPLE) + 1
