"""The one place typed domain errors become Temporal failures.

A business refusal (insufficient funds, a bad bet, a conflict) will not change by
retrying, so it leaves an activity as a non-retryable ``ApplicationError`` whose
``type`` is the error's stable ``code``; workflows and the API read the code, never the
message. ``ServiceUnavailable`` and untyped exceptions stay retryable: the database or
a chain node being down is exactly what activity retries are for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from croupier.core.errors import CroupierError, ServiceUnavailable

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def business_failures() -> Iterator[None]:
    """Re-raise typed refusals as non-retryable ``ApplicationError(type=code)``."""
    try:
        yield
    except ServiceUnavailable:
        raise
    except CroupierError as error:
        raise ApplicationError(
            str(error),
            type=error.code,
            non_retryable=True,
            # A refusal is the system working: logged quietly, not as a worker failure.
            category=ApplicationErrorCategory.BENIGN,
        ) from error


def maps_business_failures(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`business_failures` for activity methods (put it below
    ``@activity.defn`` so Temporal registers the wrapped function)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with business_failures():
            return function(*args, **kwargs)

    return wrapper
