"""ActiveCampaign consent on list subscriptions, through `meltano run` of its two-way job.

One sandbox for every case (their addresses cannot meet): a contact unsubscribed from one of two
lists stays opted in; from all lists it opts the Salesforce records out; a subscription to any
list opts them in; Email Opt Out checked in Salesforce unsubscribes the contact from every list
and unchecked subscribes it back to exactly those; linked contacts carry the native tags.
"""

from __future__ import annotations

import pytest
import requests

from consent_sandbox.testing import running_sandbox

from .conftest import SANDBOX_ARGS, Systems, project

JOB = "consent-sync-activecampaign"
LISTS = ("Newsletter", "Events", "Product Updates")
ac_tests = pytest.mark.xdist_group("activecampaign-consent")


@pytest.fixture(scope="module")
def ac(tmp_path_factory):
    folder = tmp_path_factory.mktemp("activecampaign")
    with running_sandbox(folder / "sandbox", *SANDBOX_ARGS) as sandbox:
        s = Systems(sandbox, project(sandbox, folder), "activecampaign")
        seen: dict[str, object] = {}

        def seed(email: str, **lists: str) -> None:
            sandbox.admin("activecampaign", "POST", "/contacts", json=[
                {"email": email, "lists": {name.replace("_", " "): status
                                           for name, status in lists.items()}}])

        def unsubscribe(email: str, *lists: str) -> None:
            sandbox.admin("activecampaign", "POST", f"/contacts/{email}/unsubscribe",
                          json={"lists": list(lists)} if lists else {})

        for n in (1, 2, 3, 5):
            s.add("Lead", {"LastName": f"P{n}", "Company": "C", "Email": f"p{n}@x.io"})
        seed("p1@x.io", Newsletter="active", Events="active")
        seed("p2@x.io", Newsletter="active", Events="active")
        seed("p3@x.io", Newsletter="unsubscribed")
        seed("p5@x.io", Newsletter="active", Events="active")
        seed("other@x.io", Product_Updates="active")  # a list p5 was never on
        (seen["contact"],) = s.add("Contact", {"LastName": "T", "Email": "tagged@x.io"})
        s.meltano.run(JOB)
        seen["p3-after-first"] = s.crm("p3@x.io")
        unsubscribe("p1@x.io", "Events")  # one of two lists
        unsubscribe("p2@x.io")  # every list
        sandbox.admin("activecampaign", "POST", "/contacts/p3@x.io/subscribe",
                      json={"list": "Events"})  # any list opts in
        (p5,) = [k.split()[1] for k in s.crm("p5@x.io")]
        s.edit("Lead", p5, HasOptedOutOfEmail=True)
        s.meltano.run(JOB)
        s.meltano.run(JOB)
        seen["p5-out"] = _statuses(s, "p5@x.io")
        s.edit("Lead", p5, HasOptedOutOfEmail=False)
        s.meltano.run(JOB)
        s.meltano.run(JOB)
        yield s, seen


def _statuses(s: Systems, email: str) -> dict[str, int]:
    """List name -> status (1 active, 2 unsubscribed, 3 bounced) of the contact of ``email``."""
    endpoint = s.sandbox.endpoints["activecampaign"]
    names = {row["id"]: row["name"] for row in requests.get(
        f"{endpoint['base_url']}/lists", headers={"Api-Token": endpoint["api_token"]},
        verify=s.sandbox.ca_bundle, timeout=60).json()["lists"]}
    contact = s.platform.contacts()[email]
    return {names[m["list"]]: int(m["status"]) for m in contact["lists"]}


@ac_tests
def test_unsubscribed_from_one_of_two_lists_stays_opted_in(ac):
    s, _ = ac
    assert set(s.crm("p1@x.io").values()) == {False}


@ac_tests
def test_unsubscribed_from_every_list_opts_the_salesforce_records_out(ac):
    s, _ = ac
    assert set(s.crm("p2@x.io").values()) == {True}


@ac_tests
def test_a_subscription_to_any_list_opts_them_in(ac):
    s, seen = ac
    assert set(seen["p3-after-first"].values()) == {True}  # first sight: unsubscribed, opted out
    assert set(s.crm("p3@x.io").values()) == {False}


@ac_tests
def test_email_opt_out_unsubscribes_every_list_and_unchecked_subscribes_back_exactly_those(ac):
    s, seen = ac
    assert seen["p5-out"] == {"Newsletter": 2, "Events": 2}
    assert _statuses(s, "p5@x.io") == {"Newsletter": 1, "Events": 1}


@ac_tests
def test_linked_contacts_carry_the_native_integrations_tags(ac):
    s, _ = ac
    contacts = s.platform.contacts()
    assert "created-from-salesforce-lead" in contacts["p1@x.io"]["tags"]
    assert "added-to-salesforce-contact" in contacts["tagged@x.io"]["tags"]
