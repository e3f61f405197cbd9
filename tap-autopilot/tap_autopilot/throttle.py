"""Client-side pacing, so the tap stays under Autopilot's rate limit on its own."""

from __future__ import annotations

from typing import Any

import requests

from api_pacing import TokenBucket


class ThrottledSession(requests.Session):
    """A requests session whose every call (retries included) first takes a token of the
    process's bucket (`api_pacing.shared_bucket`: 90 % of the limit, no burst)."""

    def __init__(self, limiter: TokenBucket) -> None:
        super().__init__()
        self.trust_env = False  # `verify` is set from ca_bundle; REQUESTS_CA_BUNDLE must not win
        self.limiter = limiter

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.limiter.wait()
        return super().send(request, **kwargs)
