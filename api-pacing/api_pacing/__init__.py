"""Pacing under an API's rate limit, shared by every call of a process, and progress logs."""

from .bucket import TokenBucket, shared_bucket
from .progress import Progress

__all__ = ["Progress", "TokenBucket", "shared_bucket"]
