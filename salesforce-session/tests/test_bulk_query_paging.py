"""A Bulk query's results are read a page at a time and parsed as consumed (bounded memory).

A fake HTTP session stands behind a real simple-salesforce client: it answers the results
calls with CSV pages of `maxRecords` rows and records which calls were made when.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
from typing import Any
from urllib.parse import urlparse

import requests
from simple_salesforce import Salesforce

from consentsync_salesforce import bulk
from consentsync_salesforce.bulk import Bulk2, iter_csv

COLUMNS = ["Id", "Email", "LastName", "Company", "HasOptedOutOfEmail", "SystemModstamp"]


def page_csv(start: int, end: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i in range(start, end):
        writer.writerow([f"00Q{i:015d}", f"person{i}@example.com", f"Last {i}",
                         f"Company {i}", "false", "2026-12-01T10:00:00.000+0000"])
    return out.getvalue().encode()


class FakeHttp(requests.Session):
    """Bulk 2.0 query endpoints of a job of `total` rows, paged by maxRecords and locator."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total
        self.results_calls: list[dict[str, list[str]]] = []
        self.log: list[str] = []  # "results <offset>" and "row <id>" in the order they happened

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        path = urlparse(url).path
        if path.endswith("/results"):
            params = {k: [str(v)] for k, v in (kwargs.get("params") or {}).items()}
            self.results_calls.append(params)
            start = int(params.get("locator", ["0"])[0])
            size = int(params["maxRecords"][0])
            end = min(self.total, start + size)
            self.log.append(f"results {start}")
            response._content = page_csv(start, end)
            response.headers["Sforce-Locator"] = str(end) if end < self.total else "null"
            response.headers["Sforce-NumberOfRecords"] = str(end - start)
        elif method == "POST":
            response._content = b'{"id": "750000000000001AAA", "state": "UploadComplete"}'
        else:
            response._content = b'{"id": "750000000000001AAA", "state": "JobComplete"}'
        return response


class FakeSession:
    """SalesforceSession's surface that Bulk2 uses: every call runs once."""

    def __init__(self, http: FakeHttp) -> None:
        self.sf = Salesforce(instance_url="https://example.my.salesforce.com",
                             session_id="token", session=http)

    def call(self, what: str, action: Any) -> Any:
        return action(self.sf)

    def sleep(self, seconds: float) -> None:
        pass


def test_results_are_asked_for_by_max_records_and_each_page_only_when_the_last_is_read(
        monkeypatch):
    monkeypatch.setattr(bulk, "RESULTS_PAGE", 100)
    http = FakeHttp(total=250)
    pages = Bulk2(FakeSession(http)).query("Lead", "SELECT Id FROM Lead")
    ids = []
    for page in pages:
        assert not isinstance(page, list)  # rows are parsed as read, not held
        for row in page:
            http.log.append(f"row {row['Id']}")
            ids.append(row["Id"])
    assert [c["maxRecords"] for c in http.results_calls] == [["100"]] * 3
    assert [c.get("locator") for c in http.results_calls] == [None, ["100"], ["200"]]
    assert ids == [f"00Q{i:015d}" for i in range(250)]
    # the second page is fetched after the first page's last row, not before its first
    assert http.log.index("results 100") == http.log.index(f"row 00Q{99:015d}") + 1
    assert http.log.index("results 200") == http.log.index(f"row 00Q{199:015d}") + 1


def test_reading_a_page_holds_about_its_csv_not_its_rows():
    data = page_csv(0, 20_000)
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_csv(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    # every row as a dict at once would take several times the CSV's bytes
    assert peak < len(data) / 4, (peak, len(data))


def test_nul_bytes_are_dropped_as_simple_salesforce_drops_them():
    assert list(iter_csv(b'"Id","Email"\n"1","a\x00@b.io"\n')) == [{"Id": "1", "Email": "a@b.io"}]
