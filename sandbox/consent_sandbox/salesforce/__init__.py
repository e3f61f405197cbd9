"""The Salesforce REST API stand-in: OAuth, SOQL queries, sObjects, collections, limits."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..admin import instrument_routes
from ..instrument import Instruments
from ..settings import SandboxSettings
from .admin_routes import admin_routes
from .api import api_routes
from .demo_loader import load_demo
from .errors import render_error
from .oauth import oauth_routes
from .org import Org

__all__ = ["create_app", "load_demo", "render_error"]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return render_error(405, "METHOD_NOT_ALLOWED",
                            f"HTTP Method '{request.method}' not allowed.")
    return render_error(status)


def create_app(settings: SandboxSettings, instruments: Instruments) -> Starlette:
    """The app; its SQLite connection belongs to the event-loop thread that serves it."""
    org = Org(settings, instruments)
    routes = [*instrument_routes(instruments), *admin_routes(org), *oauth_routes(org),
              *api_routes(org)]
    app = Starlette(routes=routes, exception_handlers={404: _http_error, 405: _http_error})
    app.state.org = org
    return app
