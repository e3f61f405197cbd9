"""A fresh PostgreSQL database per test, on the server of CONSENTSYNC_TEST_POSTGRES_URL.

`.ci/postgres.sh COMMAND` starts a throwaway server and sets the variable. Without it the
PostgreSQL tests skip, unless CONSENTSYNC_REQUIRE_POSTGRES=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def postgres_server() -> str:
    url = os.environ.get("CONSENTSYNC_TEST_POSTGRES_URL")
    if not url:
        why = ("CONSENTSYNC_TEST_POSTGRES_URL is not set: run the tests under .ci/postgres.sh "
               "(it starts a throwaway PostgreSQL server)")
        if os.environ.get("CONSENTSYNC_REQUIRE_POSTGRES") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    server = make_url(postgres_server())
    name = f"ledger_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path) -> str:
    """The ledger's URL on each backend: a SQLite file, and a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("postgres_url")
