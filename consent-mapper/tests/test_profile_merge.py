"""A profile held back, then a newer one of another record: sent as one document."""

from __future__ import annotations

from consent_mapper.profile import merge_docs


def test_the_newer_profile_wins_per_value_and_keeps_what_only_the_older_had():
    older = {"FirstName": "Ada", "Company": "Old", "custom_fields": {"tier": "gold", "a": 1},
             "lists": ["leads", "newsletter"]}
    newer = {"Company": "New", "custom_fields": {"tier": "silver"}, "lists": ["contacts"]}
    assert merge_docs(older, newer) == {
        "FirstName": "Ada", "Company": "New", "custom_fields": {"tier": "silver", "a": 1},
        "lists": ["contacts", "leads", "newsletter"]}
    assert merge_docs(older, {}) == older
    assert older["lists"] == ["leads", "newsletter"]  # neither input is changed
