"""What the HTTP clients of the plugins share: pacing under an API's rate limit, progress logs,
what a failed connection means, and a one-line exit for fatal errors."""

from .bucket import TokenBucket, shared_bucket
from .connection import (
    ConnectionProblem,
    check_ca_bundle,
    connection_problem,
    raise_connection_problem,
)
from .fatal import FatalError, one_line_exit
from .progress import Progress

__all__ = ["ConnectionProblem", "FatalError", "Progress", "TokenBucket", "check_ca_bundle",
           "connection_problem", "one_line_exit", "raise_connection_problem", "shared_bucket"]
