"""Selection criteria, decided locally: one function at a time."""

from __future__ import annotations

import pytest

from tap_salesforce_optout.selection import SelectionError, parse


def test_rows_are_anded_and_comma_separated_values_ored():
    chosen = parse("Lead", [{"field": "Status", "operator": "equals", "value": "Open, Working"},
                            {"field": "Country", "operator": "not_equals",
                             "value": "Australia"}])
    assert chosen.matches({"Status": "open", "Country": "Germany"})  # case-blind, as SOQL
    assert chosen.matches({"Status": "Working", "Country": None})
    assert not chosen.matches({"Status": "Open", "Country": "Australia"})
    assert not chosen.matches({"Status": "Closed", "Country": "Germany"})
    assert chosen.fields == ["Status", "Country"]


def test_a_hostile_value_is_only_ever_compared():
    chosen = parse("Lead", [{"field": "Status", "value": "x' OR Name != 'y"}])
    assert chosen.matches({"Status": "x' OR Name != 'y"})
    assert not chosen.matches({"Status": "Open"})


@pytest.mark.parametrize("raw", [None, "all"])
def test_all_matches_everything(raw):
    assert parse("Lead", raw).matches({"Status": "anything"})


def test_none_reads_nothing_and_bad_rows_name_the_fix():
    assert parse("Contact", "none").mode == "none"
    with pytest.raises(SelectionError, match=r"selection.Lead\[0\].*operator"):
        parse("Lead", [{"field": "Status", "operator": "like"}])
    with pytest.raises(SelectionError, match="'all', 'none'"):
        parse("Lead", "some")
