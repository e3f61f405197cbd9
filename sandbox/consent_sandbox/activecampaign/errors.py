"""ActiveCampaign's error bodies, which differ by endpoint and status.

- 400 on many endpoints: an empty object `{}`;
- 403 (token refused): `{"message": "..."}`;
- 404: `{"message": "No Result found for <Type> with id N"}`;
- 422 (validation): `{"errors": [{"title", "detail", "code", "source": {"pointer"}}]}`;
- the bulk import answers `{"success": 0, "message", "failureReasons": [...]}`.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

UNAUTHORIZED = "You are not authorized to access this resource"


class ActiveCampaignError(Exception):
    """An answer other than success; `body` is sent as is."""

    def __init__(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        return JSONResponse(self.body, self.status, headers=self.headers)


def not_found(kind: str, ident: object) -> ActiveCampaignError:
    return ActiveCampaignError(404, {"message": f"No Result found for {kind} with id {ident}"})


def invalid(title: str, code: str, pointer: str, detail: str = "") -> ActiveCampaignError:
    return ActiveCampaignError(422, {"errors": [
        {"title": title, "detail": detail, "code": code, "source": {"pointer": pointer}}]})


def render_error(status: int, code: str | None = None, message: str | None = None) -> Response:
    """The body a fault of this status gets (used by the fault injector and unknown routes)."""
    if status == 422:
        return JSONResponse({"errors": [{"title": message or "Unprocessable Entity", "detail": "",
                                         "code": code or "invalid"}]}, status)
    if status == 400:
        return JSONResponse({}, status)
    headers = {"Retry-After": "1"} if status == 429 else None
    return JSONResponse({"message": message or _phrase(status)}, status, headers=headers)


def _phrase(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase
