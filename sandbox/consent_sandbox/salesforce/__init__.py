"""The salesforce stand-in (placeholder until its app lands)."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response

from ..admin import instrument_routes
from ..instrument import Instruments
from ..settings import SandboxSettings


def create_app(settings: SandboxSettings, instruments: Instruments) -> Starlette:
    return Starlette(routes=instrument_routes(instruments))


def render_error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": code, "message": message}, status)


def load_demo(settings: SandboxSettings, people: list) -> None:
    return None
