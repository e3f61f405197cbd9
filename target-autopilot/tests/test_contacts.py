"""Records as Autopilot payloads: one function at a time."""

from __future__ import annotations

import pytest

from target_autopilot.contacts import BadRecord, custom_key, field_type, payload


@pytest.mark.parametrize(("value", "kind"), [
    (True, "boolean"), (3, "integer"), (2.5, "float"), ("2024-05-01", "date"),
    ("2024-05-01T10:00:00+00:00", "date"), ("Gold", "string"), ("12", "string"),
])
def test_a_new_custom_field_is_typed_by_its_value(value, kind):
    assert field_type(value) == kind


def test_custom_keys_carry_the_type_and_spaces_as_double_dashes():
    assert custom_key("Customer Tier", "string") == "string--Customer--Tier"


def test_payload_keeps_unsubscribed_only_when_the_record_has_it():
    types = {"Seats": "integer"}
    with_flag = payload({"Email": " a@x.io", "FirstName": "A", "unsubscribed": True,
                         "custom_fields": {"Seats": 3, "Tier": "Gold"}, "lists": ["L"],
                         "_sdc_extracted_at": "x"}, types)
    assert with_flag == {"Email": "a@x.io", "FirstName": "A", "unsubscribed": True,
                         "custom": {"integer--Seats": 3, "string--Tier": "Gold"}}
    assert types["Tier"] == "string"  # learnt for the rest of the run
    assert "unsubscribed" not in payload({"Email": "b@x.io"}, {})


def test_a_bad_address_is_refused_with_the_fix():
    with pytest.raises(BadRecord, match="b@@x.io"):
        payload({"Email": "b@@x.io"}, {})
