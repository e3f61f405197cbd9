"""The ActiveCampaign API v3 stand-in: contacts, list statuses, tags, custom fields, bounces,
the bulk import, webhooks and the 5 requests a second limit."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..admin import instrument_routes
from ..instrument import Instruments
from ..settings import SandboxSettings
from .account import Account
from .admin_routes import admin_routes
from .api import Api
from .catalog_routes import catalog_routes
from .demo_loader import load_demo
from .errors import render_error
from .store import Store

__all__ = ["create_app", "load_demo", "render_error"]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return render_error(status, None, "No Result found" if status == 404 else None)


def create_app(settings: SandboxSettings, instruments: Instruments) -> Starlette:
    store = Store(settings.activecampaign_db)
    account = Account(settings, store)
    api = Api(settings, store, account)
    routes = [*instrument_routes(instruments), *admin_routes(account, api.limit), *api.routes(),
              *catalog_routes(api)]
    return Starlette(routes=routes, exception_handlers={404: _http_error, 405: _http_error})
