"""The people of a run come out of its scratch file sorted, a chunk at a time, each once."""

from __future__ import annotations

from consent_mapper.rules import CRM, Observation, RecordKey
from consent_mapper.run_input import RunInput


def observe(run: RunInput, email: str, record_id: str) -> None:
    run.observe(Observation(RecordKey(CRM, "salesforce", "Lead", record_id), email, False))


def test_people_read_and_needing_attention_are_chunked_in_sorted_order_each_once():
    run = RunInput()
    try:
        for n, email in enumerate(["c@x.io", "a@x.io", "é@x.io", "b@x.io", "a@x.io"]):
            observe(run, email, f"00Q{n}")
        chunks = list(run.people_in_order({"d@x.io", "b@x.io", "Z@x.io"}, size=2))
        assert chunks == [["Z@x.io", "a@x.io"], ["b@x.io", "c@x.io"], ["d@x.io", "é@x.io"]]
        flat = [email for chunk in chunks for email in chunk]
        assert flat == sorted(run.emails() | {"d@x.io", "Z@x.io"})  # Python's order of str
        assert run.people(chunks[0])["a@x.io"].observations[1].key.record_id == "00Q4"
    finally:
        run.close()


def test_a_run_that_read_nobody_and_owes_nobody_has_no_chunk():
    run = RunInput()
    try:
        assert list(run.people_in_order((), size=100)) == []
    finally:
        run.close()
