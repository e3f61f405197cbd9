"""Preflight on describe's answer: which fields are read, and which missing ones stop the run."""

from __future__ import annotations

import logging

import pytest

from tap_salesforce_optout.fields import FIELDS
from tap_salesforce_optout.preflight import HiddenField, fields_to_read

LOG = logging.getLogger("test")


def described(sobject: str, *, without: tuple[str, ...] = ()) -> dict[str, str]:
    return {f: "string" for f in FIELDS[sobject] if f not in without} | {"Industry": "picklist"}


def test_a_hidden_opt_out_names_object_field_and_the_fix():
    with pytest.raises(HiddenField) as hidden:
        fields_to_read("Lead", described("Lead", without=("HasOptedOutOfEmail",)), [], LOG)
    assert "Lead.HasOptedOutOfEmail" in str(hidden.value)
    assert "Field Accessibility" in str(hidden.value)


def test_person_account_consent_is_required_only_where_person_accounts_exist():
    with pytest.raises(HiddenField, match="Account.PersonHasOptedOutOfEmail"):
        fields_to_read("Account", described("Account", without=("PersonHasOptedOutOfEmail",)),
                       [], LOG)
    business_only = described("Account", without=("IsPersonAccount", "FirstName", "LastName",
                                                   "PersonEmail", "PersonHasOptedOutOfEmail",
                                                   "PersonContactId", "PersonEmailBouncedDate",
                                                   "PersonEmailBouncedReason"))
    assert "PersonEmail" not in fields_to_read("Account", business_only, [], LOG)


def test_named_fields_are_read_and_unknown_ones_refused(caplog):
    fields = fields_to_read("Lead", described("Lead", without=("Phone",)), ["Industry"], LOG)
    assert "Industry" in fields and "Phone" not in fields
    assert "Phone" in caplog.text  # a missing standard field is a warning, not a stop
    with pytest.raises(HiddenField, match="'Tier__c'"):
        fields_to_read("Lead", described("Lead"), ["Tier__c"], LOG)
