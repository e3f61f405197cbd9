"""Helpers for tests that drive the Salesforce stand-in as a real integration would."""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests

from ..testing import RunningSandbox

if TYPE_CHECKING:
    from simple_salesforce import Salesforce


def trusting_session(sandbox: RunningSandbox) -> requests.Session:
    """A session that trusts only the sandbox CA (REQUESTS_CA_BUNDLE in the env would win)."""
    session = requests.Session()
    session.verify = sandbox.ca_bundle
    session.trust_env = False
    return session


def request_token(sandbox: RunningSandbox, **overrides: str) -> requests.Response:
    """``POST /services/oauth2/token`` with the refresh_token grant, fields overridable."""
    sf = sandbox.endpoints["salesforce"]
    form = {"grant_type": "refresh_token", "client_id": sf["client_id"],
            "client_secret": sf["client_secret"], "refresh_token": sf["refresh_token"],
            **overrides}
    return trusting_session(sandbox).post(f"{sf['login_url']}/services/oauth2/token", data=form,
                                          timeout=30)


def api_session(sandbox: RunningSandbox) -> requests.Session:
    """A trusting session that sends a fresh access token with every request."""
    session = trusting_session(sandbox)
    session.headers["Authorization"] = f"Bearer {request_token(sandbox).json()['access_token']}"
    return session


def connect(sandbox: RunningSandbox, version: str = "59.0") -> Salesforce:
    """simple-salesforce with a fresh token, the way the plugins connect."""
    from simple_salesforce import Salesforce

    token = request_token(sandbox).json()
    return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"],
                      session=trusting_session(sandbox), version=version)
