"""The admin surface both stand-ins share: call counters and fault injection.

Lives under ``/_sandbox/`` on each API's port, outside every real API path.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .instrument import ADMIN_PREFIX, Fault, Instruments

FAULT_KEYS = {"status", "error_code", "message", "count", "fraction", "endpoint", "method",
              "per_record", "seed"}


def instrument_routes(instruments: Instruments) -> list[Route]:
    async def get_calls(request: Request) -> Response:
        return JSONResponse(instruments.snapshot())

    async def reset_calls(request: Request) -> Response:
        instruments.reset_counts()
        return Response(status_code=204)

    async def add_fault(request: Request) -> Response:
        body = await request.json()
        if "latency_ms" in body:
            instruments.latency_ms = int(body.pop("latency_ms"))
        unknown = set(body) - FAULT_KEYS
        if unknown:
            return JSONResponse({"error": f"unknown fault keys: {sorted(unknown)}"}, 400)
        if body:
            instruments.add_fault(Fault(**body))
        return Response(status_code=204)

    async def clear_faults(request: Request) -> Response:
        instruments.clear_faults()
        return Response(status_code=204)

    return [
        Route(f"{ADMIN_PREFIX}/calls", get_calls, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/calls", reset_calls, methods=["DELETE"]),
        Route(f"{ADMIN_PREFIX}/faults", add_fault, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/faults", clear_faults, methods=["DELETE"]),
    ]
