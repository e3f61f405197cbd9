"""The Autopilot REST API v1 stand-in: contacts, lists, custom fields, hooks, the rate limit."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..admin import instrument_routes
from ..instrument import Instruments
from ..settings import SandboxSettings
from .admin_routes import admin_routes
from .api import Api
from .demo_loader import load_demo
from .errors import render_error
from .store import Store

__all__ = ["create_app", "load_demo", "render_error"]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return render_error(status, None, "Not Found" if status == 404 else None)


def create_app(settings: SandboxSettings, instruments: Instruments) -> Starlette:
    store = Store(settings.autopilot_db)
    api = Api(settings, store)
    routes = [*instrument_routes(instruments), *admin_routes(api), *api.routes()]
    return Starlette(routes=routes, exception_handlers={404: _http_error, 405: _http_error})
