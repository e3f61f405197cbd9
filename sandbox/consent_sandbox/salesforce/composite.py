"""``POST /composite``: up to 25 subrequests in one call, ``@{ref.path}`` references, allOrNone.

Subrequests run through the same handlers as direct calls (sObjects, query, collections, upsert
by external id); the composite call counts once against the daily allowance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from .errors import SalesforceError

if TYPE_CHECKING:
    from .org import Org

MAX_SUBREQUESTS = 25
REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
REFERENCE_ID = re.compile(r"^[A-Za-z0-9_]+$")
ROLLED_BACK = {"errorCode": "PROCESSING_HALTED",
               "message": "The transaction was rolled back since another operation in the same "
                          "transaction failed."}
Handler = Callable[[Request], Awaitable[Response]]


def _invalid(message: str) -> SalesforceError:
    return SalesforceError("INVALID_API_INPUT", message)


class Unresolved(Exception):
    pass


def _lookup(value: object, path: str) -> object:
    for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        name, index = step
        if name and isinstance(value, dict) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            raise Unresolved
    return value


class CompositeRunner:
    def __init__(self, org: Org, routes: list[Route]):
        self.org = org
        self.routes = routes  # the data routes, without the session guard

    async def run(self, body: object, authorization: str) -> dict:
        subrequests, all_or_none = self._parse(body)
        done: dict[str, object] = {}
        failed_refs: set[str] = set()
        out: list[dict] = []
        db = self.org.store.db
        if all_or_none:
            db.execute("BEGIN IMMEDIATE")
        try:
            for sub in subrequests:
                ref = sub["referenceId"]
                if all_or_none and failed_refs:
                    out.append(self._entry(ref, 400, [dict(ROLLED_BACK)]))
                    continue
                try:
                    url = self._resolve(sub["url"], done, failed_refs)
                    payload = self._resolve(sub.get("body"), done, failed_refs)
                    status, headers, answer = await self._dispatch(
                        str(sub["method"]).upper(), str(url), payload, authorization)
                except Unresolved as missing:
                    status, headers, answer = 400, {}, [{
                        "errorCode": "PROCESSING_HALTED", "message": str(missing)}]
                if status >= 400:
                    failed_refs.add(ref)
                else:
                    done[ref] = answer
                out.append(self._entry(ref, status, answer, headers))
        except BaseException:
            if all_or_none:
                db.execute("ROLLBACK")
            raise
        if all_or_none:
            if failed_refs:
                db.execute("ROLLBACK")
                for entry in out:
                    if entry["httpStatusCode"] < 400:
                        entry.update(body=[dict(ROLLED_BACK)], httpStatusCode=400, httpHeaders={})
            else:
                db.execute("COMMIT")
        return {"compositeResponse": out}

    @staticmethod
    def _entry(ref: str, status: int, body: object, headers: dict | None = None) -> dict:
        return {"body": body, "httpHeaders": headers or {}, "httpStatusCode": status,
                "referenceId": ref}

    @staticmethod
    def _parse(body: object) -> tuple[list[dict], bool]:
        if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
            raise _invalid("The request body must be an object with a compositeRequest array")
        subrequests = body["compositeRequest"]
        if not subrequests or len(subrequests) > MAX_SUBREQUESTS:
            raise _invalid(f"A composite request has 1 to {MAX_SUBREQUESTS} subrequests, not "
                           f"{len(subrequests)}")
        seen: set[str] = set()
        for sub in subrequests:
            if not isinstance(sub, dict) or not all(sub.get(k) for k in
                                                    ("method", "url", "referenceId")):
                raise _invalid("Each subrequest needs method, url and referenceId")
            ref = str(sub["referenceId"])
            if not REFERENCE_ID.match(ref) or ref in seen:
                raise _invalid(f"Invalid or duplicate referenceId: {ref}")
            seen.add(ref)
        return subrequests, bool(body.get("allOrNone", False))

    def _resolve(self, value: object, done: dict[str, object], failed: set[str]) -> object:
        if isinstance(value, str):
            def one(match: re.Match) -> str:
                ref, path = match.group(1), match.group(2)
                if ref in failed:
                    raise Unresolved(f"Invalid reference specified. No value for {ref}{path} "
                                     f"found in {ref}. Provided referenceId ('{ref}') refers "
                                     "to a failed subrequest.")
                if ref not in done:
                    raise Unresolved(f"Invalid reference specified. No value for {ref}{path} "
                                     f"found in {ref}.")
                found = _lookup(done[ref], path) if path else done[ref]
                return str(found).lower() if isinstance(found, bool) else str(found)

            try:
                return REFERENCE.sub(one, value)
            except Unresolved as error:
                if "found in" in str(error):
                    raise
                raise Unresolved(f"Invalid reference specified in {value}") from None
        if isinstance(value, dict):
            return {k: self._resolve(v, done, failed) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v, done, failed) for v in value]
        return value

    async def _dispatch(self, method: str, url: str, payload: object,
                        authorization: str) -> tuple[int, dict, object]:
        parts = urlsplit(url)
        if not parts.path.startswith("/services/data/v"):
            return 400, {}, [{"errorCode": "INVALID_API_INPUT",
                              "message": f"The URL {url} is not a REST API resource"}]
        raw = b"" if payload is None else json.dumps(payload).encode()
        scope = {"type": "http", "method": method, "path": parts.path.rstrip("/"),
                 "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
                 "headers": [(b"authorization", authorization.encode()),
                             (b"content-type", b"application/json")],
                 "root_path": "", "scheme": "https", "server": ("127.0.0.1", 443)}
        handler: Handler | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            if match == Match.FULL:
                scope.update(child)
                handler = route.endpoint
                break
        if handler is None:
            return 404, {}, [{"errorCode": "NOT_FOUND",
                              "message": "The requested resource does not exist"}]
        if "/jobs/" in parts.path or parts.path.endswith("/composite"):
            return 400, {}, [{"errorCode": "INVALID_API_INPUT",
                              "message": f"{parts.path} is not supported in a composite request"}]

        async def receive() -> dict:
            return {"type": "http.request", "body": raw, "more_body": False}

        try:
            response = await handler(Request(scope, receive))
        except SalesforceError as error:
            return error.status, {}, [error.top_level()]
        body = json.loads(response.body) if response.body else None
        headers = {}
        if response.status_code == 201 and isinstance(body, dict) and body.get("id") and \
                method == "POST":
            headers["Location"] = f"{parts.path.rstrip('/')}/{body['id']}"
        return response.status_code, headers, body
