"""``POST /services/oauth2/token``: the refresh_token and password grants."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .org import ORG_ID, Org
from .schema import INTEGRATION_USER_ID


def oauth_error(error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, 400)


def oauth_routes(org: Org) -> list[Route]:
    creds = org.settings.salesforce

    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        form.update({k: v for k, v in request.query_params.items() if k not in form})
        grant = form.get("grant_type")
        if grant not in ("refresh_token", "password"):
            return oauth_error("unsupported_grant_type", "grant type not supported")
        if form.get("client_id") != creds.client_id:
            return oauth_error("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != creds.client_secret:
            return oauth_error("invalid_client", "invalid client credentials")
        if grant == "refresh_token":
            accepted = hmac.compare_digest(form.get("refresh_token", ""), creds.refresh_token)
        else:
            accepted = (form.get("username") == creds.username and hmac.compare_digest(
                form.get("password", ""), creds.password + creds.security_token))
        if not accepted:
            return oauth_error("invalid_grant", "authentication failure")
        access_token, issued = org.new_session()
        instance_url = f"{request.url.scheme}://{request.url.netloc}"
        identity = f"{instance_url}/id/{ORG_ID}/{INTEGRATION_USER_ID}"
        issued_at = str(int(issued * 1000))
        signature = base64.b64encode(hmac.new(creds.client_secret.encode(),
                                              (identity + issued_at).encode(),
                                              hashlib.sha256).digest()).decode()
        return JSONResponse({"access_token": access_token, "instance_url": instance_url,
                             "id": identity, "token_type": "Bearer", "issued_at": issued_at,
                             "signature": signature})

    return [Route("/services/oauth2/token", token, methods=["POST"])]
