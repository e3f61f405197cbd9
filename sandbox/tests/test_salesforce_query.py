"""Salesforce stand-in: SOQL, paging with nextRecordsUrl, queryAll and the error shapes."""

import pytest
from simple_salesforce import format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from consent_sandbox.salesforce.testing import connect, request_token, trusting_session


@pytest.fixture(scope="module")
def loaded(sandbox):
    """4,500 Leads: every third opted out, every tenth deleted, one stamp per 500 rows."""
    sandbox.admin("salesforce", "POST", "/reset")
    rows = [{"LastName": f"L{i}", "Company": "Acme", "Email": f"user{i}@Example.com",
             "HasOptedOutOfEmail": i % 3 == 0, "IsDeleted": i % 10 == 0,
             "SystemModstamp": f"2024-01-0{1 + i // 500}T00:00:00.000+0000"}
            for i in range(4500)]
    sandbox.admin("salesforce", "POST", "/records/Lead", json=rows)
    return sandbox


@pytest.fixture(scope="module")
def sf(loaded):
    return connect(loaded)


def test_query_all_pages_through_every_live_row(sf, loaded):
    result = sf.query_all("SELECT Id, Email FROM Lead")
    assert result["totalSize"] == 4050
    assert len({r["Id"] for r in result["records"]}) == 4050
    calls = {(c["method"], c["endpoint"]): c["count"] for c in loaded.calls("salesforce")["calls"]}
    assert calls[("GET", "/services/data/{version}/query/{locator}")] >= 2


def test_raw_next_records_url_and_batch_size_header(sf, loaded):
    session = trusting_session(loaded)
    headers = {"Authorization": f"Bearer {sf.session_id}",
               "Sforce-Query-Options": "batchSize=500"}
    first = session.get(f"{loaded.salesforce_url}/services/data/v62.0/query",
                        params={"q": "SELECT Id FROM Lead ORDER BY Id"}, headers=headers).json()
    assert list(first) == ["totalSize", "done", "nextRecordsUrl", "records"]
    assert (first["totalSize"], first["done"], len(first["records"])) == (4050, False, 500)
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-500")
    seen = [r["Id"] for r in first["records"]]
    page = first
    while not page["done"]:
        page = session.get(loaded.salesforce_url + page["nextRecordsUrl"], headers=headers).json()
        seen += [r["Id"] for r in page["records"]]
    assert "nextRecordsUrl" not in page
    assert seen == sorted(seen) and len(seen) == 4050


def test_default_page_is_2000_and_tiny_batch_sizes_are_raised_to_200(sf):
    assert len(sf.query("SELECT Id FROM Lead")["records"]) == 2000
    small = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=5"})
    assert len(small["records"]) == 200


def test_query_all_includes_the_recycle_bin(sf):
    assert sf.query("SELECT COUNT() FROM Lead WHERE IsDeleted = true")["totalSize"] == 0
    deleted = sf.query_all("SELECT Id, IsDeleted FROM Lead WHERE IsDeleted = true",
                           include_deleted=True)
    assert deleted["totalSize"] == 450
    assert all(r["IsDeleted"] is True for r in deleted["records"])


def test_records_have_attributes_canonical_casing_and_requested_order(sf):
    record = sf.query("select email, ID, systemmodstamp, hasoptedoutofemail, Owner.Name "
                      "from lead where email = 'USER3@example.COM'")["records"][0]
    assert list(record) == ["attributes", "Email", "Id", "SystemModstamp", "HasOptedOutOfEmail",
                            "Owner"]
    assert record["attributes"] == {"type": "Lead",
                                    "url": f"/services/data/v59.0/sobjects/Lead/{record['Id']}"}
    assert record["Email"] == "user3@Example.com"
    assert record["SystemModstamp"] == "2024-01-01T00:00:00.000+0000"
    assert record["HasOptedOutOfEmail"] is True
    assert record["Owner"]["Name"] == "Integration User"


@pytest.mark.parametrize(("where", "count"), [
    ("SystemModstamp >= 2024-01-09T00:00:00Z", 450),
    ("SystemModstamp > 2024-01-08T22:00:00-01:00", 450),
    ("SystemModstamp > 2024-01-09T01:00:00+01:00", 0),
    ("SystemModstamp >= 2024-01-09T00:00:00.000+00:00 AND HasOptedOutOfEmail = true", 150),
    ("HasOptedOutOfEmail = null", 2700),
    ("Email IN ('USER1@EXAMPLE.COM', 'user2@example.com', 'none@x.y')", 2),
    ("Email NOT IN ('user1@example.com') AND SystemModstamp < 2024-01-02T00:00:00Z", 449),
    ("Email LIKE 'user44%'", 100),
    ("(Email = 'user1@example.com' OR Email = 'user2@example.com') AND NOT LastName = 'L1'", 1),
    ("Email != null", 4050),
    ("Company <> 'acme'", 0),
    ("CreatedDate = LAST_N_DAYS:1", 4050),
])
def test_where_operators(sf, where, count):
    assert sf.query(f"SELECT COUNT() FROM Lead WHERE {where}")["totalSize"] == count


def test_order_by_and_limit(sf):
    rows = sf.query("SELECT LastName FROM Lead WHERE SystemModstamp < 2024-01-02T00:00:00Z "
                    "ORDER BY LastName DESC NULLS LAST LIMIT 3")["records"]
    assert [r["LastName"] for r in rows] == ["L99", "L98", "L97"]


def test_string_escapes_and_format_soql(sf, loaded):
    sf.Lead.create({"LastName": "O'Brien \\ Co", "Company": "X", "Email": "ob@example.com"})
    found = sf.query(format_soql("SELECT LastName FROM Lead WHERE LastName = {}",
                                 "O'Brien \\ Co"))
    assert found["records"][0]["LastName"] == "O'Brien \\ Co"
    since = format_soql("SELECT COUNT() FROM Lead WHERE SystemModstamp >= {}",
                        __import__("datetime").datetime(2024, 1, 9,
                                                        tzinfo=__import__("datetime").UTC))
    assert sf.query(since)["totalSize"] == 451


@pytest.mark.parametrize(("soql", "code", "text"), [
    ("SELECT Id FROM Lead WHERE Email = ", "MALFORMED_QUERY", "unexpected token"),
    ("SELECT Id FROM Lead WHERE Email = 'a' AND Email = 'b' OR Email = 'c'",
     "MALFORMED_QUERY", "unexpected token: 'OR'"),
    ("SELECT Id, Nope FROM Lead", "INVALID_FIELD",
     "No such column 'Nope' on entity 'Lead'. If you are attempting to use a custom field, be "
     "sure to append the '__c' after the custom field name."),
    ("SELECT Id FROM Lead WHERE Nope__c = 'x'", "INVALID_FIELD", "No such column 'Nope__c'"),
    ("SELECT Id FROM Leads", "INVALID_TYPE", "sObject type 'Leads' is not supported"),
    ("SELECT Id FROM Lead WHERE SystemModstamp > '2024-01-01T00:00:00Z'", "INVALID_FIELD",
     "must be of type dateTime and should not be enclosed in quotes"),
    ("SELECT Id FROM Lead WHERE HasOptedOutOfEmail = 'true'", "INVALID_FIELD",
     "must be of type boolean"),
    ("SELECT Id FROM Lead WHERE Email = 'a\\qb'", "MALFORMED_QUERY", "Illegal character"),
    ("DELETE FROM Lead", "MALFORMED_QUERY", "unexpected token"),
])
def test_query_errors_are_400_arrays(sf, soql, code, text):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    assert caught.value.status == 400
    [error] = caught.value.content
    assert set(error) == {"message", "errorCode"}
    assert error["errorCode"] == code
    assert text in error["message"]


def test_unknown_query_locator_is_rejected(loaded):
    token = request_token(loaded).json()["access_token"]
    response = trusting_session(loaded).get(
        f"{loaded.salesforce_url}/services/data/v59.0/query/01gSb0000000999AAA-2000",
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_cursor_survives_a_restart(tmp_path):
    from consent_sandbox.testing import running_sandbox

    rows = [{"LastName": f"L{i}", "Company": "Acme"} for i in range(2500)]
    with running_sandbox(tmp_path / "s") as first:
        first.admin("salesforce", "POST", "/records/Lead", json=rows)
        page = connect(first).query("SELECT Id FROM Lead")
    with running_sandbox(tmp_path / "s") as second:
        sf = connect(second)
        rest = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
        assert len(rest["records"]) == 500 and rest["done"] is True
        assert sf.api_usage["api-usage"].used == 2  # usage is kept in the store
