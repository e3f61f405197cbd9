"""Errors that end a plugin's run, shown as their one-line message rather than a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class FatalError(Exception):
    """A failure that ends the run; its message names what to check (no traceback needed)."""


@contextmanager
def one_line_exit(logger: logging.Logger,
                  *errors: type[BaseException]) -> Iterator[None]:
    """A FatalError (or one of `errors`) ends the program with its message and exit code 1."""
    try:
        yield
    except (FatalError, *errors) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        logger.error("%s", message)  # noqa: TRY400 - the message is the whole story
        raise SystemExit(1) from None
