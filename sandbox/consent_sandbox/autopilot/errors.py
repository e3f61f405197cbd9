"""Autopilot's error body: `{"error": "<HTTP reason phrase>", "message": "<text>"}`."""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse, Response


class AutopilotError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def render_error(status: int, code: str | None = None, message: str | None = None) -> Response:
    """``code`` is ignored: Autopilot names the HTTP status, not an error code."""
    phrase = HTTPStatus(status).phrase
    return JSONResponse({"error": phrase, "message": message or phrase}, status)
