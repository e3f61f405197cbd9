"""tap-salesforce-optout reads the company fields of Accounts named in extra_fields (the consent
mapper's account_field_map), with describe's types, over REST and through Bulk API 2.0."""

from __future__ import annotations

import pytest

from . import test_tap_on_sandbox as on_sandbox
from .test_tap_on_sandbox import add, records

tap = on_sandbox.tap  # the fixture that runs the tap's console script

EXTRA = {"Account": ["Industry", "Website", "NumberOfEmployees", "AnnualRevenue"]}


@pytest.mark.parametrize("bulk_threshold", [0, 1])
def test_account_company_fields_come_with_their_types(sandbox, tap, bulk_threshold):
    # more than one page of 200 first: with bulk_threshold=1 Acme comes through a Bulk job
    add(sandbox, "Account", [{"Name": f"Filler {n}"} for n in range(250)])
    (acme,) = add(sandbox, "Account", [{"Name": "Acme", "Industry": "Energy",
                                        "Website": "https://acme.example",
                                        "NumberOfEmployees": 250, "AnnualRevenue": 1500000.5}])
    add(sandbox, "Contact", [{"LastName": "Ann", "Email": "ann@acme.example",
                              "AccountId": acme}])
    code, messages, err = tap(extra_fields=EXTRA, bulk_threshold=bulk_threshold,
                              page_size=200)
    assert code == 0, err
    assert ("Bulk API 2.0 query job" in err) is bool(bulk_threshold)
    schema = next(m["schema"] for m in messages
                  if m["type"] == "SCHEMA" and m["stream"] == "Account")
    assert "integer" in schema["properties"]["NumberOfEmployees"]["type"]
    assert "number" in schema["properties"]["AnnualRevenue"]["type"]
    (row,) = [r for r in records(messages, "Account") if r["Id"] == acme]
    assert (row["Name"], row["Industry"], row["Website"], row["NumberOfEmployees"],
            row["AnnualRevenue"], row["IsPersonAccount"]) == (
        "Acme", "Energy", "https://acme.example", 250, 1500000.5, False)
    assert [r["AccountId"] for r in records(messages, "Contact")] == [acme]


def test_an_unknown_account_field_stops_the_run_naming_it(tap):
    code, _, err = tap(extra_fields={"Account": ["Industryy"]})
    assert code != 0 and "Industryy" in err and "extra_fields" in err
