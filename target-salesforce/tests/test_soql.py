"""Match-lookup SOQL: escaping, case-blind de-duplication and chunking under the length limit."""

from __future__ import annotations

import re
from urllib.parse import quote_plus

from hypothesis import given
from hypothesis import strategies as st

from target_salesforce.soql import distinct_case_blind, match_queries


def in_list(query: str) -> str:
    return query.split(" IN (", 1)[1].rsplit(")", 1)[0]


def test_select_names_id_match_field_and_read_fields_once():
    [query] = match_queries("Lead", "Email", ["a@x.io"], ["HasOptedOutOfEmail", "Email"],
                            ["IsConverted = false"])
    assert query == ("SELECT Id, Email, HasOptedOutOfEmail FROM Lead WHERE Email IN "
                     "('a@x.io') AND IsConverted = false")


def test_quotes_and_backslashes_are_escaped():
    [query] = match_queries("Contact", "Email", ["o'neil@x.io", "back\\slash@x.io"], [])
    assert in_list(query) == "'o\\'neil@x.io','back\\\\slash@x.io'"


def test_values_differing_only_in_case_are_sent_once():
    assert distinct_case_blind(["Dana@x.io", "dana@X.IO", "pat@x.io"]) == ["Dana@x.io",
                                                                           "pat@x.io"]
    [query] = match_queries("Lead", "Email", ["Dana@x.io", "DANA@X.IO"], [])
    assert in_list(query) == "'Dana@x.io'"


def test_many_values_are_split_into_queries_under_the_limit():
    values = [f"person{i:05d}@example.org" for i in range(2000)]
    queries = match_queries("Lead", "Email", values, ["HasOptedOutOfEmail"],
                            ["IsConverted = false"], max_encoded_length=4000)
    assert len(queries) > 1
    assert all(len(quote_plus(q)) <= 4000 for q in queries)
    sent = [v for q in queries for v in re.findall(r"'([^']*)'", in_list(q))]
    assert sent == values
    assert all(q.endswith(") AND IsConverted = false") for q in queries)


@given(st.lists(st.text(min_size=1, max_size=40), max_size=60))
def test_every_value_is_sent_exactly_once_within_the_limit(values):
    queries = match_queries("Lead", "Email", values, [], max_encoded_length=1500)
    assert all(len(quote_plus(q)) <= 1500 for q in queries)
    literals = [lit for q in queries for lit in _literals(in_list(q))]
    assert len(literals) == len(distinct_case_blind(values))


def _literals(text: str) -> list[str]:
    """Split a SOQL IN list on commas outside quoted strings, honouring backslash escapes."""
    out, current, quoted, escaped = [], "", False, False
    for char in text:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            current, escaped = current + char, True
        elif char == "'":
            current, quoted = current + char, not quoted
        elif char == "," and not quoted:
            out.append(current)
            current = ""
        else:
            current += char
    return [*out, current] if current else out
