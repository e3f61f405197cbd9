"""What every ActiveCampaign stream shares: the Api-Token header, TLS trust, pacing, retries,
errors, and paged reads of any collection."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import requests
from singer_sdk import RESTStream
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.types import Context
from singer_sdk.pagination import BaseAPIPaginator

from api_pacing import raise_connection_problem

from .pagination import PAGE_SIZE, IdKeysetPaginator, LimitOffsetPaginator
from .retry import wait_generator

if TYPE_CHECKING:
    from .tap import TapActiveCampaign

MAX_TRIES = 8


def hint(status: int, path: str) -> str:
    """What the user can do about a refused call, when it is clear."""
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
        return ("check api_token (Settings, Developer) and that its user may see contacts and "
                "lists")
    resource = path.rstrip("/").split("/api/3", 1)[-1]
    if status == HTTPStatus.NOT_FOUND and (resource.count("/") <= 1 or "/api/3" not in path):
        return "check api_url: it is the account's API URL ending in /api/3"
    return ""


class ActiveCampaignStream(RESTStream):
    """Base of the ActiveCampaign streams."""

    _tap: TapActiveCampaign

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    def authenticator(self) -> APIKeyAuthenticator:
        return APIKeyAuthenticator(key="Api-Token", value=self.config.get("api_token", ""),
                                   location="header")

    @property
    def requests_session(self) -> requests.Session:
        # one session for the whole tap: the rate limiter spaces the calls of every stream
        session = self._tap.http_session
        session.verify = (self.config.get("ca_bundle") or os.environ.get("REQUESTS_CA_BUNDLE")
                          or True)
        return session

    def _request(self, prepared_request: requests.PreparedRequest,
                 context: dict | None) -> requests.Response:
        # a failed connection in one line naming the setting; no retry when none can help
        try:
            return super()._request(prepared_request, context)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise_connection_problem(exc, service="ActiveCampaign", url_setting="api_url",
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
        # the path and ActiveCampaign's own text only: headers carry the token
        path = urlparse(response.url).path
        detail = response.text[:300].strip() or "no body"
        method = response.request.method if response.request is not None else "GET"
        message = f"ActiveCampaign answered {response.status_code} to {method} {path}: {detail}"
        advice = hint(response.status_code, path)
        return f"{message}; {advice}" if advice else message

    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        return wait_generator()

    def backoff_max_tries(self) -> int:
        return MAX_TRIES

    def backoff_handler(self, details: Any) -> None:  # noqa: ANN401
        # a retry is a warning, worded by the failure itself (the SDK logs it as an error)
        self.logger.warning("retry %d of %d in %.1f s: %s", details.get("tries", 0),
                            MAX_TRIES - 1, details.get("wait") or 0.0, details.get("exception"))

    # reads outside the stream's own listing, through the same retries and pacing

    def call(self, path: str, params: dict | None = None, context: Context | None = None,
             missing_ok: bool = False) -> dict | None:
        """GET one resource; None for a 404 when `missing_ok` (a contact deleted meanwhile)."""
        prepared = self.build_prepared_request(method="GET", url=f"{self.url_base}{path}",
                                               params=params or {}, headers=self.http_headers)
        try:
            response = self.request_decorator(self._request)(prepared, context)
        except FatalAPIError as exc:
            if missing_ok and "answered 404" in str(exc):
                return None
            raise
        return response.json()

    def pages(self, path: str, key: str, params: dict | None = None,
              keyset: bool = False, context: Context | None = None) -> Iterator[dict]:
        """Every row of a collection: `id_greater` keyset (contacts) or `limit`/`offset`."""
        paginator: BaseAPIPaginator = (IdKeysetPaginator(key) if keyset
                                       else LimitOffsetPaginator(key))
        base = {"limit": PAGE_SIZE, **(params or {})}
        if keyset:
            base["orders[id]"] = "ASC"
        while not paginator.finished:
            query = dict(base)
            if paginator.current_value is not None:
                query["id_greater" if keyset else "offset"] = paginator.current_value
            prepared = self.build_prepared_request(method="GET", url=f"{self.url_base}{path}",
                                                   params=query, headers=self.http_headers)
            response = self.request_decorator(self._request)(prepared, context)
            rows = (response.json() or {}).get(key) or []
            yield from rows
            if not rows:
                break
            paginator.advance(response)
