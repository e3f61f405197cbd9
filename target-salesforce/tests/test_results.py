"""Per-record results of sObject Collections: written, retriable or rejected for good."""

from __future__ import annotations

import logging

import pytest

from target_salesforce.results import classify_results
from target_salesforce.writer import write_all
from target_salesforce.writes import Write


def lead(record_id: str, origin: str = "Email=a@x.io") -> Write:
    return Write("Lead", {"HasOptedOutOfEmail": True}, [origin], record_id=record_id)


def error(code: str, message: str = "m", fields: list[str] | None = None) -> dict:
    return {"success": False, "errors": [{"statusCode": code, "message": message,
                                          "fields": fields or []}]}


def test_success_lock_and_validation_errors_are_told_apart():
    sent = [lead("00Q1"), lead("00Q2"), lead("00Q3")]
    results = [{"id": "00Q1", "success": True, "errors": []},
               {"id": "00Q2", **error("UNABLE_TO_LOCK_ROW")},
               {"id": "00Q3", **error("INVALID_EMAIL_ADDRESS", "Email: invalid", ["Email"])}]
    classified = classify_results(sent, results)
    assert [w.record_id for w, _ in classified.written] == ["00Q1"]
    assert [w.record_id for w, _ in classified.retriable] == ["00Q2"]
    [failure] = classified.failed
    assert (failure.sobject, failure.target, failure.code, failure.fields) == (
        "Lead", "00Q3", "INVALID_EMAIL_ADDRESS", ("Email",))
    assert "00Q3" in str(failure) and "Email=a@x.io" in str(failure)


@pytest.mark.parametrize("code", ["CANNOT_UPDATE_CONVERTED_LEAD", "ENTITY_IS_DELETED",
                                  "INVALID_FIELD_FOR_INSERT_UPDATE",
                                  "FIELD_CUSTOM_VALIDATION_EXCEPTION"])
def test_final_errors_are_not_retried(code):
    classified = classify_results([lead("00Q1")], [error(code)])
    assert not classified.retriable and classified.failed[0].code == code


def test_a_lock_error_mixed_with_a_final_one_is_final():
    result = {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "a"},
                                           {"statusCode": "INVALID_EMAIL_ADDRESS",
                                            "message": "b"}]}
    classified = classify_results([lead("00Q1")], [result])
    assert classified.failed and not classified.retriable


def test_failed_entry_without_id_names_the_record_sent():
    classified = classify_results([lead("00Q9")], [error("ENTITY_IS_DELETED")])
    assert classified.failed[0].target == "00Q9"


def test_a_result_count_mismatch_is_refused():
    with pytest.raises(ValueError):
        classify_results([lead("00Q1"), lead("00Q2")], [{"success": True}])


class FakeCollections:
    """Answers like sObject Collections: each record's fate decided by a script of codes."""

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = script
        self.calls: list[list[str]] = []

    def __call__(self, bodies: list[dict]) -> list[dict]:
        self.calls.append([b["id"] for b in bodies])
        out = []
        for body in bodies:
            codes = self.script.get(body["id"], [])
            code = codes.pop(0) if codes else None
            out.append(error(code) | {"id": body["id"]} if code
                       else {"id": body["id"], "success": True, "errors": []})
        return out


def test_lock_errors_are_retried_and_then_written():
    send = FakeCollections({"00Q2": ["UNABLE_TO_LOCK_ROW", "UNABLE_TO_LOCK_ROW"]})
    report = write_all(send, [lead("00Q1"), lead("00Q2")], max_retries=3, base_delay=0,
                       logger=logging.getLogger("test"), sleep=lambda _: None)
    assert report.written == 2 and not report.failures
    assert send.calls == [["00Q1", "00Q2"], ["00Q2"], ["00Q2"]]


def test_lock_errors_beyond_max_retries_become_failures_the_rest_written():
    send = FakeCollections({"00Q2": ["UNABLE_TO_LOCK_ROW"] * 5, "00Q3": ["ENTITY_IS_DELETED"]})
    report = write_all(send, [lead("00Q1"), lead("00Q2"), lead("00Q3")], max_retries=2,
                       base_delay=0, logger=logging.getLogger("test"), sleep=lambda _: None)
    assert report.written == 1
    assert sorted((f.target, f.code) for f in report.failures) == [
        ("00Q2", "UNABLE_TO_LOCK_ROW"), ("00Q3", "ENTITY_IS_DELETED")]
    assert "after 2 retries" in str(next(f for f in report.failures if f.target == "00Q2"))


def test_writes_are_sent_at_most_200_a_call():
    send = FakeCollections({})
    writes = [lead(f"00Q{i:04d}") for i in range(450)]
    report = write_all(send, writes, max_retries=0, base_delay=0,
                       logger=logging.getLogger("test"))
    assert [len(c) for c in send.calls] == [200, 200, 50] and report.written == 450
