"""Salesforce calls per opt-out change: a lookup per 200 input records, a write per 200 updates.

A tenth of the addresses sit on a second Lead in other letter case, so 2,000 input records fan out
to 2,200 updates: 11 full collection calls, not 20 half-empty ones.
"""

from __future__ import annotations

from collections import Counter

PEOPLE = 2000


def test_calls_per_opt_out_change(sandbox, run_target):
    sandbox.admin("salesforce", "POST", "/records/Lead", json=[
        {"LastName": f"L{i}", "Company": "C", "Email": f"p{i:05d}@x.io"} for i in range(PEOPLE)
    ] + [{"LastName": f"D{i}", "Company": "C", "Email": f"P{i:05d}@x.IO"}
         for i in range(0, PEOPLE, 10)])
    sandbox.admin("salesforce", "DELETE", "/calls")
    records = [{"Email": f"P{i:05d}@X.IO", "HasOptedOutOfEmail": True} for i in range(PEOPLE)]
    result = run_target(sandbox, {"Lead": records})
    assert result.returncode == 0, result.stderr

    calls = Counter()
    for row in sandbox.calls("salesforce")["calls"]:
        kind = next((k for k in ("composite/sobjects", "query", "describe", "oauth2/token")
                     if k in row["endpoint"]), row["endpoint"])
        calls[(row["method"], kind)] += row["count"]
    written = [r for r in sandbox.admin("salesforce", "GET", "/records/Lead").json()
               if r.get("HasOptedOutOfEmail")]
    assert len(written) == PEOPLE * 11 // 10
    assert calls[("PATCH", "composite/sobjects")] == len(written) // 200
    assert calls[("GET", "query")] == PEOPLE // 200
    assert sum(calls.values()) == 21 + 2  # plus one token and one describe
    per_10k = sum(calls.values()) * 10_000 / len(written)
    print(f"\nSalesforce calls per 10,000 opt-out changes: {per_10k:.0f} ({dict(calls)})")

    sandbox.admin("salesforce", "DELETE", "/calls")
    assert run_target(sandbox, {"Lead": records}).returncode == 0
    assert sandbox.calls("salesforce")["writes"] == 0  # sign-ins are no writes; no record written
