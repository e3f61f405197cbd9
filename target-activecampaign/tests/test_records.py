"""Unit tests of the input contract's checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from target_activecampaign.client import describe
from target_activecampaign.records import BadRecord, parse


def test_a_full_record_is_read():
    contact = parse({"email": " Ada@Example.com ", "first_name": "Ada", "orgname": "Analytical",
                     "unsubscribed": False, "resubscribe_lists": ["3", "3", " "],
                     "tags": ["a", "a"], "fields": {"Score": Decimal("1.50"), "Gone": None},
                     "id": 12})
    assert contact.email == "Ada@Example.com"
    assert contact.profile == {"first_name": "Ada", "customer_acct_name": "Analytical"}
    assert contact.resubscribe_lists == ["3"] and contact.tags == ["a"]
    assert contact.fields == {"Score": "1.5"} and contact.contact_id == "12"
    assert parse({"email": "a@b.example", "_sdc_deleted_at": "2024-01-01"}).delete


@pytest.mark.parametrize(("record", "says"), [
    ({"email": "nope"}, "is not a valid address"),
    ({"email": "a@b.example", "unsubscribed": "yes"}, "true, false or absent"),
    ({"email": "a@b.example", "lists": "Newsletter"}, "must be an array"),
    ({"email": "a@b.example", "fields": ["x"]}, "must be an object"),
])
def test_bad_records_name_the_fix(record, says):
    with pytest.raises(BadRecord, match=says):
        parse(record)


def test_every_error_body_shape_is_described():
    assert describe({}) == "no detail (empty body)"
    assert describe({"message": "No Result found"}) == "No Result found"
    assert describe({"errors": [{"title": "duplicate"}]}) == "duplicate"
    assert "Rate limit" in describe({"success": 0, "message": "Rate limit exceeded.",
                                     "failureReasons": ["x"]})
