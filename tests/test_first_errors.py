"""The errors a user meets first, through real `meltano run`: each ends in one line that names
the setting to check, with no traceback and no retries that cannot help.

One sandbox for the module; each case is a project of its own (system database, state, ledger).
A ledger_url that cannot be opened is covered in-process (consent-mapper/tests/test_ledger_url.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from consent_sandbox.testing import running_sandbox

from .conftest import SANDBOX_ARGS, Systems, project

JOB = "salesforce-to-autopilot"
first_errors = pytest.mark.xdist_group("first-errors")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("first-errors") / "sandbox",
                         *SANDBOX_ARGS) as running:
        Systems(running, None).add(  # type: ignore[arg-type] - only the sandbox is used
            "Lead", {"LastName": "Lovelace", "Company": "Engines", "Email": "ada@x.io"})
        yield running


def failed_run(sandbox, folder: Path, **env: str) -> str:
    meltano = project(sandbox, folder)
    meltano.extra_env.update(env)
    result = meltano.run(JOB, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    return output


@first_errors
def test_a_wrong_client_secret_says_check_client_id_and_secret(sandbox, tmp_path):
    output = failed_run(sandbox, tmp_path, TAP_SALESFORCE_OPTOUT_CLIENT_SECRET="wrong-secret")
    assert "invalid_client" in output and "Check client_id and client_secret" in output
    assert "Renew the Salesforce connection" not in output
    assert "wrong-secret" not in output


@first_errors
def test_an_untrusted_certificate_names_ca_bundle_and_is_not_retried(sandbox, tmp_path):
    trustme = pytest.importorskip("trustme")
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    output = failed_run(sandbox, tmp_path, TARGET_AUTOPILOT_CA_BUNDLE=str(other_ca))
    assert "its TLS certificate is not trusted" in output and "check ca_bundle" in output
    assert "rate_limit_per_second" not in output and "retrying in" not in output


@first_errors
def test_a_typo_in_ledger_url_after_earlier_runs_stops_instead_of_starting_over(
        sandbox, tmp_path):
    meltano = project(sandbox, tmp_path)
    first = meltano.run(JOB)
    assert "is new: this first run creates it" in first.stdout + first.stderr
    meltano.extra_env["CONSENT_MAPPER_LEDGER_URL"] = f"sqlite:///{tmp_path / 'consent-ledgr.db'}"
    typo = meltano.run(JOB, check=False)
    output = typo.stdout + typo.stderr
    assert typo.returncode != 0 and "Traceback" not in output
    assert "names a new, empty consent ledger, but the tap's state shows" in output
