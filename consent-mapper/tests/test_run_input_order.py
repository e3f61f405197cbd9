"""The people of a run come out of its scratch file sorted, a chunk at a time, each once."""

from __future__ import annotations

from dataclasses import replace

from consent_mapper.adapters.salesforce import Conversion
from consent_mapper.rules import CRM, Observation, RecordKey
from consent_mapper.run_input import BATCH, RunInput


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


def test_conversions_come_back_each_once_in_order_a_page_at_a_time_while_the_run_observes():
    run = RunInput()
    try:
        total = BATCH * 2 + 7
        for n in range(total):
            lead = Observation(RecordKey(CRM, "salesforce", "Lead", f"00Q{n:06d}"),
                               f"p{n}@x.io", False)
            run.convert(Conversion(lead, RecordKey(CRM, "salesforce", "Contact", f"003{n:06d}"),
                                   f"p{n}@x.io"))
        back = []
        for conversion in run.conversions():
            back.append(conversion.lead.key.record_id)
            run.observe(replace(conversion.lead, email=f"c{len(back)}@x.io"))  # as the run does
        assert back == [f"00Q{n:06d}" for n in range(total)]
        assert len(run.emails()) == total
    finally:
        run.close()
