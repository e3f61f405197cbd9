"""What every Autopilot stream shares: auth header, TLS trust, rate limit, retries, errors."""

from __future__ import annotations

import os
from collections.abc import Generator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

import requests
from singer_sdk import RESTStream
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from api_pacing import raise_connection_problem

from .retry import wait_generator

if TYPE_CHECKING:
    from .tap import TapAutopilot

MAX_TRIES = 8
FIRST_PAGES = ("/contacts", "/lists", "/contacts/custom_fields")


def hint(status: int, detail: str, path: str) -> str:
    """What the user can do about a refused call, when it is clear."""
    if status == HTTPStatus.UNAUTHORIZED or (status == HTTPStatus.BAD_REQUEST
                                             and "autopilotapikey" in detail):
        return "check the api_key setting (Autopilot: Settings, Autopilot API)."
    if status == HTTPStatus.NOT_FOUND and path.endswith(FIRST_PAGES):
        return "check base_url: it should end in /v1."
    return ""


class AutopilotStream(RESTStream):
    """Base of the Autopilot streams."""

    _tap: TapAutopilot

    @property
    def url_base(self) -> str:
        return str(self.config.get("base_url") or "https://api2.autopilothq.com/v1").rstrip("/")

    @property
    def authenticator(self) -> APIKeyAuthenticator:
        return APIKeyAuthenticator(key="autopilotapikey", value=self.config.get("api_key", ""))

    @property
    def requests_session(self) -> requests.Session:
        # One session for the whole tap: the rate limiter spaces the calls of every stream.
        session = self._tap.http_session
        session.verify = (self.config.get("ca_bundle") or os.environ.get("REQUESTS_CA_BUNDLE")
                          or True)
        return session

    @staticmethod
    def path_part(value: str) -> str:
        return quote(str(value), safe="")

    def _request(self, prepared_request: requests.PreparedRequest,
                 context: dict | None) -> requests.Response:
        # a failed connection in one line naming the setting; no retry when none can help
        try:
            return super()._request(prepared_request, context)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise_connection_problem(exc, service="Autopilot", url_setting="base_url",
                                     url=self.url_base, fatal=FatalAPIError,
                                     retriable=RetriableAPIError)
            raise

    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= HTTPStatus.BAD_REQUEST:
            raise FatalAPIError(self.response_error_message(response))

    def response_error_message(self, response: requests.Response) -> str:
        # Only the path and Autopilot's own error text: never headers, which carry the key.
        path = urlparse(response.url).path
        try:
            body = response.json()
            detail = f"{body.get('error')}: {body.get('message')}"
        except (ValueError, AttributeError):
            detail = response.text[:200]
        method = response.request.method if response.request is not None else "GET"
        message = f"Autopilot answered {response.status_code} to {method} {path} ({detail})"
        advice = hint(response.status_code, detail, path)
        return f"{message}; {advice}" if advice else message

    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        return wait_generator()

    def backoff_max_tries(self) -> int:
        return MAX_TRIES

    def backoff_handler(self, details: Any) -> None:  # noqa: ANN401
        # a retry is a warning, worded by the failure itself (the SDK logs it as an error)
        self.logger.warning("retry %d of %d in %.1f s: %s", details.get("tries", 0),
                            MAX_TRIES - 1, details.get("wait") or 0.0, details.get("exception"))
