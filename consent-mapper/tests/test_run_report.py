"""The end-of-run summary names a bounded number of skipped records, however many there were."""

from __future__ import annotations

from consent_mapper.report import RunReport
from consent_mapper.rules import CRM, RecordKey, Skip, SkipReason


def lead(n: int) -> RecordKey:
    return RecordKey(CRM, "salesforce", "Lead", f"00Q{n:06d}")


def test_an_org_of_address_less_leads_gets_a_summary_line_of_bounded_length():
    report = RunReport()
    for n in range(5_000):
        report.skip(Skip(SkipReason.NO_EMAIL, lead(n), "no email address"))
    report.skip(Skip(SkipReason.INVALID_EMAIL, lead(9_999_999), "broken@@x.io"))
    lines = report.summary()
    assert lines[0].endswith("skipped=5001")
    no_email = next(line for line in lines if line.startswith("skipped no_email: 5000: "))
    assert "Lead 00Q000000 (no email address)" in no_email
    assert "Lead 00Q000099" in no_email and "Lead 00Q000100" not in no_email
    assert no_email.endswith("and 4900 more (each named in its R10 warning)")
    assert len(no_email) < 5_000
    assert "skipped invalid_email: 1: Lead 00Q9999999 (broken@@x.io)" in lines
