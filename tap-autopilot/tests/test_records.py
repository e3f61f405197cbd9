import pytest

from tap_autopilot.records import ContactError, contact_record, latest_hard_bounce
from tap_autopilot.timestamps import parse_timestamp

RAW = {
    "contact_id": "person_0001",
    "Email": "ada@example.com",
    "FirstName": "Ada",
    "Company": "Analytical",
    "unsubscribed": False,
    "created_at": "Tue, 05 Mar 2024 14:07:09 GMT",
    "updated_at": 1709647629123,
    "lists": ["contactlist_1"],
    "custom_fields": [{"kind": "Tier", "fieldType": "string", "value": "gold"}],
    "mail_received": {"mail_1": 1709000000000},
    "SomethingNew": "ignored",
}


def test_contract_fields_are_picked_and_unknown_keys_dropped():
    record = contact_record(RAW)
    assert record["contact_id"] == "person_0001"
    assert record["Email"] == "ada@example.com"
    assert record["LastName"] is None
    assert record["lists"] == ["contactlist_1"]
    assert record["custom_fields"] == RAW["custom_fields"]
    assert "SomethingNew" not in record
    assert "mail_received" not in record  # the history comes as mail_events


def test_timestamps_come_out_iso_utc():
    record = contact_record(RAW)
    assert record["created_at"] == "2024-03-05T14:07:09.000000+00:00"
    assert record["updated_at"] == "2024-03-05T14:07:09.123000+00:00"


def test_no_hard_bounce():
    record = contact_record(RAW)
    assert record["hard_bounced"] is False
    assert record["hard_bounced_at"] is None
    assert contact_record({**RAW, "mail_hardbounced": {}})["hard_bounced"] is False


def test_latest_hard_bounce_wins():
    bounces = {"mail_a": 1709000000000, "mail_b": "1709647629123", "mail_c": 1700000000000}
    record = contact_record({**RAW, "mail_hardbounced": bounces})
    assert record["hard_bounced"] is True
    assert record["hard_bounced_at"] == "2024-03-05T14:07:09.123000+00:00"
    assert latest_hard_bounce(bounces) == parse_timestamp(1709647629123)


def test_unsubscribed_is_a_boolean():
    assert contact_record({**RAW, "unsubscribed": True})["unsubscribed"] is True
    assert contact_record({**RAW, "unsubscribed": 0})["unsubscribed"] is False


def test_bad_timestamp_names_the_contact_and_field():
    with pytest.raises(ContactError, match=r"person_0001 \(ada@example.com\): field updated_at"):
        contact_record({**RAW, "updated_at": "last tuesday"})


def test_bad_bounce_names_the_contact():
    with pytest.raises(ContactError, match="person_0001.*mail_hardbounced"):
        contact_record({**RAW, "mail_hardbounced": {"m": "soon"}})


def test_missing_contact_id_is_refused():
    with pytest.raises(ContactError, match="no contact_id"):
        contact_record({"Email": "x@example.com"})


def test_mail_history_becomes_mail_events_oldest_first():
    raw = {**RAW, "mail_opened": {"mail_1": 1709000100000, "mail_2": "1709000300000"},
           "mail_clicked": {"mail_1": 1709000200000}, "mail_bounced": {},
           "mail_hardbounced": {"mail_3": 1709000400000}}
    assert contact_record(raw)["mail_events"] == [
        {"type": "received", "mail_id": "mail_1", "at": "2024-02-27T02:13:20.000000+00:00"},
        {"type": "opened", "mail_id": "mail_1", "at": "2024-02-27T02:15:00.000000+00:00"},
        {"type": "clicked", "mail_id": "mail_1", "at": "2024-02-27T02:16:40.000000+00:00"},
        {"type": "opened", "mail_id": "mail_2", "at": "2024-02-27T02:18:20.000000+00:00"},
        {"type": "hardbounced", "mail_id": "mail_3", "at": "2024-02-27T02:20:00.000000+00:00"},
    ]
    assert contact_record({k: v for k, v in RAW.items() if k != "mail_received"})[
        "mail_events"] == []


def test_bad_mail_history_names_the_contact_and_field():
    with pytest.raises(ContactError, match=r"person_0001.*mail_opened\[mail_1\]"):
        contact_record({**RAW, "mail_opened": {"mail_1": "soon"}})
    with pytest.raises(ContactError, match="person_0001.*mail_clicked is not an object"):
        contact_record({**RAW, "mail_clicked": ["mail_1"]})
