"""The API-usage guard: no call once the org's 24-hour usage reaches the allowed share."""

from __future__ import annotations

from simple_salesforce import Salesforce
from simple_salesforce.util import Usage

from .errors import UsageLimitReached


class UsageGuard:
    """Fed the `Sforce-Limit-Info` header of every answer; checked before every call."""

    def __init__(self, max_percent: float) -> None:
        if not 0 < max_percent <= 100:
            raise ValueError("max_api_usage_percent must be between 1 and 100")
        self.max_percent = max_percent
        self.usage: Usage | None = None

    def note(self, limit_info: str | None) -> None:
        if limit_info:
            usage = Salesforce.parse_api_usage(limit_info).get("api-usage")
            if isinstance(usage, Usage):
                self.usage = usage

    def note_limits(self, limits: dict) -> None:
        """From a /limits answer: DailyApiRequests {Max, Remaining}."""
        daily = limits.get("DailyApiRequests") or {}
        if daily.get("Max"):
            self.usage = Usage(used=int(daily["Max"]) - int(daily.get("Remaining", 0)),
                               total=int(daily["Max"]))

    def check(self, what: str) -> None:
        """Stop before the call that would take the org past the allowed share."""
        usage = self.usage
        if usage is None or not usage.total:
            return
        if (usage.used + 1) * 100 > self.max_percent * usage.total:
            raise UsageLimitReached(
                f"Stopped before exceeding max_api_usage_percent={self.max_percent:g} "
                f"({what} not sent): the org has used {usage.used} of {usage.total} API "
                "requests in the last 24 hours. Nothing past what was handled is bookmarked; "
                "run again when usage has dropped, or raise max_api_usage_percent.")

    def text(self) -> str:
        if self.usage is None or not self.usage.total:
            return "API usage unknown"
        used, total = self.usage.used, self.usage.total
        return f"API usage {used}/{total} ({100 * used / total:.1f}%)"
