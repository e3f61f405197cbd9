"""Salesforce stand-in: the User object, as clients read owners and the connected user."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from consent_sandbox.salesforce.testing import connect


@pytest.fixture(scope="module")
def sf(sandbox):
    sandbox.admin("salesforce", "POST", "/reset")
    return connect(sandbox)


def test_users_are_queried_like_any_object_though_they_have_no_isdeleted(sf):
    rows = sf.query_all("SELECT Id, Username, IsActive FROM User WHERE IsActive = true "
                        "ORDER BY Id LIMIT 5")["records"]
    assert rows and all(r["Id"].startswith("005") and r["IsActive"] is True for r in rows)
    assert rows[0]["attributes"]["type"] == "User"
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == len(
        sf.query_all("SELECT Id FROM User", include_deleted=True)["records"])


def test_a_user_has_no_isdeleted_field(sf):
    with pytest.raises(SalesforceMalformedRequest) as error:
        sf.query("SELECT Id, IsDeleted FROM User")
    assert error.value.content[0]["errorCode"] == "INVALID_FIELD"
