"""The compiled record validator refuses what the SDK's default validator refuses."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import InvalidJSONSchema, InvalidRecord

from target_autopilot.validation import CompiledValidator

SCHEMA = {"type": "object", "properties": {
    "Email": {"type": "string"}, "unsubscribed": {"type": ["boolean", "null"]},
    "lists": {"type": ["array", "null"], "items": {"type": "string"}}}}


def test_a_record_of_the_schema_passes():
    CompiledValidator(SCHEMA).validate({"Email": "a@x.io", "unsubscribed": None,
                                        "lists": ["Leads"]})


@pytest.mark.parametrize("record", [{"Email": 5}, {"Email": "a@x.io", "unsubscribed": "yes"},
                                    {"Email": "a@x.io", "lists": [1]}])
def test_a_record_off_the_schema_is_refused_naming_the_field(record):
    with pytest.raises(InvalidRecord) as refused:
        CompiledValidator(SCHEMA).validate(record)
    assert any(name in str(refused.value) for name in ("Email", "unsubscribed", "lists"))


def test_a_broken_schema_is_refused_at_once():
    with pytest.raises(InvalidJSONSchema):
        CompiledValidator({"type": "no-such-type"})
