"""SOQL for looking up records by a match field, chunked to stay under URL and SOQL limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote_plus

from simple_salesforce.format import quote_soql_value

# The query travels in the URL of a GET; keep it (URL-encoded) well under the 16,384-byte limit
# of a request line, and far under SOQL's own 100,000-character limit.
MAX_ENCODED_QUERY_LENGTH = 10_000


def distinct_case_blind(values: Iterable[str]) -> list[str]:
    """Values in first-seen order, one per spelling that differs only in letter case."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        folded = value.lower()
        if folded not in seen:
            seen.add(folded)
            out.append(value)
    return out


def match_queries(
    sobject: str,
    match_field: str,
    values: Iterable[str],
    select_fields: Sequence[str],
    filters: Sequence[str] = (),
    max_encoded_length: int = MAX_ENCODED_QUERY_LENGTH,
) -> list[str]:
    """``SELECT ... FROM sobject WHERE match_field IN (...) AND filters``, as few as fit.

    Values are escaped with simple-salesforce's SOQL quoting. Equality in SOQL is case-blind on
    text fields, so one spelling per value is enough.
    """
    fields = ", ".join(dict.fromkeys(["Id", match_field, *select_fields]))
    head = f"SELECT {fields} FROM {sobject} WHERE {match_field} IN ("
    tail = ")" + "".join(f" AND {condition}" for condition in filters)
    budget = max_encoded_length - len(quote_plus(head + tail))
    queries: list[str] = []
    chunk: list[str] = []
    used = 0
    for value in distinct_case_blind(values):
        literal = quote_soql_value(value)
        cost = len(quote_plus(literal)) + (len(quote_plus(",")) if chunk else 0)
        if chunk and used + cost > budget:
            queries.append(head + ",".join(chunk) + tail)
            chunk, used = [], 0
            cost = len(quote_plus(literal))
        chunk.append(literal)
        used += cost
    if chunk:
        queries.append(head + ",".join(chunk) + tail)
    return queries
