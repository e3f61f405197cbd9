"""target-activecampaign against the ActiveCampaign stand-in: the input contract end to end."""

from __future__ import annotations

import click
import pytest

pytestmark = pytest.mark.xdist_group("target-activecampaign")


def statuses(contact: dict) -> dict[str, int]:
    return {m["list"]: m["status"] for m in contact["lists"]}


def test_new_contacts_land_with_profile_fields_tags_and_lists(
        target_config, clean_sandbox, feed, contacts):
    runner = feed(target_config, [
        {"email": "ada@consent.example", "first_name": "Ada", "last_name": "Lovelace",
         "orgname": "Analytical", "tags": ["created-from-salesforce-lead"], "lists": ["Events"],
         "fields": {"Lead Status": "Open"}},
        {"email": "grace@consent.example", "first_name": "Grace", "lists": ["1"]},
    ])
    got = contacts(clean_sandbox)
    ada = got["ada@consent.example"]
    assert (ada["firstName"], ada["lastName"], ada["orgname"]) == ("Ada", "Lovelace",
                                                                   "Analytical")
    assert ada["tags"] == ["created-from-salesforce-lead"]
    assert ada["fields"] == {"Lead Status": "Open"}
    assert statuses(ada) == {"2": 1}
    assert statuses(got["grace@consent.example"]) == {"1": 1}
    assert runner.state_messages  # relayed after the import completed
    calls = clean_sandbox.calls("activecampaign")
    imports = [r for r in calls["calls"] if r["endpoint"].endswith("/import/bulk_import")]
    assert imports == [{"method": "POST", "endpoint": "/api/3/import/bulk_import", "count": 1}]


def test_unsubscribed_true_leaves_every_list_and_replays_as_a_no_op(
        target_config, clean_sandbox, feed, contacts):
    record = {"email": "SEED@consent.example", "unsubscribed": True}
    feed(target_config, [record])
    seed = contacts(clean_sandbox)["seed@consent.example"]
    assert statuses(seed) == {"1": 2, "2": 2, "3": 2}
    before = seed["lists"]
    feed(target_config, [record])
    assert contacts(clean_sandbox)["seed@consent.example"]["lists"] == before


def test_unsubscribed_false_resubscribes_exactly_the_given_lists(
        target_config, clean_sandbox, feed, contacts):
    feed(target_config, [{"email": "seed@consent.example", "unsubscribed": True}])
    feed(target_config, [{"email": "seed@consent.example", "unsubscribed": False,
                          "resubscribe_lists": ["1", "Events"]}])
    assert statuses(contacts(clean_sandbox)["seed@consent.example"]) == {"1": 1, "2": 1, "3": 2}


def test_unsubscribed_false_without_lists_uses_default_list(
        target_config, clean_sandbox, feed, contacts):
    feed(target_config, [{"email": "seed@consent.example", "unsubscribed": True}])
    feed({**target_config, "default_list": "Partners"},
         [{"email": "seed@consent.example", "unsubscribed": False}])
    assert statuses(contacts(clean_sandbox)["seed@consent.example"]) == {"1": 2, "2": 2, "3": 1}


def test_absent_unsubscribed_leaves_consent_alone_and_lists_never_resubscribe(
        target_config, clean_sandbox, feed, contacts):
    feed(target_config, [{"email": "seed@consent.example", "first_name": "Seed",
                          "lists": ["Partners"]}])
    seed = contacts(clean_sandbox)["seed@consent.example"]
    assert seed["firstName"] == "Seed"
    assert statuses(seed) == {"1": 1, "2": 1, "3": 2}  # the import does not undo an opt-out


def test_bad_records_fail_the_run_after_the_others_are_written(
        target_config, clean_sandbox, feed, contacts):
    with pytest.raises(click.ClickException) as failed:
        feed(target_config, [
            {"email": "not-an-address", "first_name": "X"},
            {"email": "fine@consent.example"},
            {"email": "list@consent.example", "lists": ["No Such List"]},
            {"email": "back@consent.example", "unsubscribed": False},
        ])
    message = failed.value.message
    assert "not-an-address: not sent: email 'not-an-address' is not a valid address" in message
    assert "'No Such List' names no list of the account" in message
    assert "set one of them" in message
    assert set(contacts(clean_sandbox)) == {"seed@consent.example", "fine@consent.example"}


def test_delete_removes_the_contact_and_a_replay_is_fine(
        target_config, clean_sandbox, feed, contacts):
    feed(target_config, [{"email": "seed@consent.example", "_delete": True}])
    feed(target_config, [{"email": "seed@consent.example", "_delete": True}])
    assert contacts(clean_sandbox) == {}


def test_rate_limit_and_server_errors_are_retried(
        target_config, clean_sandbox, feed, contacts):
    clean_sandbox.admin("activecampaign", "POST", "/faults",
                        json={"status": 429, "count": 2, "endpoint": "bulk_import"})
    clean_sandbox.admin("activecampaign", "POST", "/faults",
                        json={"status": 503, "count": 1, "endpoint": "import/info"})
    feed(target_config, [{"email": "retry@consent.example"}])
    assert "retry@consent.example" in contacts(clean_sandbox)
