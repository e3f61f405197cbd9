"""Records as Autopilot payloads: one function at a time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from target_autopilot.contacts import (
    BadRecord,
    as_type,
    custom_key,
    email_of,
    field_type,
    names,
    payload,
)


@pytest.mark.parametrize(("value", "kind"), [
    (True, "boolean"), (False, "boolean"), (3, "integer"), (2.5, "float"), (2.0, "float"),
    ("2024-05-01", "date"), ("2024-05-01T10:00:00+00:00", "date"),
    ("2024-05-01T10:00:00.123Z", "date"), ("2024-13-01", "string"), ("20240501", "string"),
    ("Gold", "string"), ("12", "string"), (None, "string"), ({"a": 1}, "string"),
])
def test_a_new_custom_field_is_typed_by_its_value(value, kind):
    assert field_type(value) == kind


def test_custom_keys_carry_the_type_and_spaces_as_double_dashes():
    assert custom_key("Customer Tier", "string") == "string--Customer--Tier"
    assert custom_key("Seats", "integer") == "integer--Seats"


@pytest.mark.parametrize(("value", "kind", "sent"), [
    (3, "string", "3"), (True, "string", "true"), (3, "float", 3.0), (4.0, "integer", 4),
    (4.5, "integer", 4.5), ("x", "integer", "x"), (True, "float", True),
])
def test_values_take_the_known_type_only_where_that_loses_nothing(value, kind, sent):
    result = as_type(value, kind)
    assert result == sent and type(result) is type(sent)


def test_payload_keeps_unsubscribed_only_when_the_record_has_it():
    types = {"Seats": "integer", "Score": "float"}
    with_flag = payload({"Email": " a@x.io", "FirstName": "A", "LastName": None,
                         "unsubscribed": True, "lists": ["L"], "lists_remove": ["M"],
                         "custom_fields": {"Seats": 3, "Customer Tier": "Gold", "Score": 2,
                                           "Gone": None},
                         "_sdc_extracted_at": "x", "_sdc_deleted_at": None}, types)
    assert with_flag == {"Email": "a@x.io", "FirstName": "A", "unsubscribed": True,
                         "custom": {"integer--Seats": 3, "string--Customer--Tier": "Gold",
                                    "float--Score": 2.0}}
    assert types["Customer Tier"] == "string"  # learnt for the rest of the run
    assert payload({"Email": "b@x.io", "unsubscribed": False}, {})["unsubscribed"] is False
    assert "unsubscribed" not in payload({"Email": "b@x.io"}, {})
    assert "unsubscribed" not in payload({"Email": "b@x.io", "unsubscribed": None}, {})


@pytest.mark.parametrize("email", ["b@@x.io", "bx.io", "b@x", "b@x.", "@x.io", "b c@x.io", "",
                                   None, 3, "b@x..io"])
def test_a_bad_address_is_refused_with_the_fix(email):
    with pytest.raises(BadRecord, match="not a valid address"):
        email_of({"Email": email})


@pytest.mark.parametrize("email", ["a@x.io", "first.last+tag@sub.example.co.uk", " a@x.io "])
def test_good_addresses_pass(email):
    assert email_of({"Email": email}) == email.strip()


def test_list_names_are_trimmed_and_deduplicated_and_must_be_an_array():
    assert names({"lists": [" A", "B", "A", "", None]}, "lists") == ["A", "B"]
    assert names({}, "lists_remove") == []
    with pytest.raises(BadRecord, match="array of list names"):
        names({"lists": "A"}, "lists")


def test_numbers_the_sdk_read_as_decimal_are_sent_as_json_numbers():
    types: dict[str, str] = {}
    contact = payload({"Email": "a@x.io", "Score": Decimal("1.5"),
                       "custom_fields": {"Seats": Decimal("2.5")}}, types)
    assert contact == {"Email": "a@x.io", "Score": 1.5, "custom": {"float--Seats": 2.5}}
    assert types == {"Seats": "float"}
