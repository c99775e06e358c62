"""Refusals across the Temporal boundary, both ways, by the errors' stable codes.

Inside workflows, a typed domain error (a validator refusing a bet, an activity's
business failure) becomes a non-retryable ``ApplicationError`` whose ``type`` is the
error's ``code``. Outside, :func:`typed_error` turns such a failure back into the typed
error, so the API answers a refused bet exactly as if it had refused it itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from temporalio.client import (
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from croupier.core.errors import Conflict, CroupierError, RateLimited, ServiceUnavailable

T = TypeVar("T")


def refusal(error: CroupierError) -> ApplicationError:
    return ApplicationError(str(error), type=error.code, non_retryable=True)


@contextmanager
def refusals() -> Iterator[None]:
    """In a validator or handler: typed errors leave as refusals (an update fails, the
    workflow task does not)."""
    try:
        yield
    except CroupierError as error:
        raise refusal(error) from None


def unwrap_activity_error(error: ActivityError) -> FailureError:
    """The activity's own ``ApplicationError`` (its refusal), rather than the wrapper
    that only says an activity failed."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return ApplicationError(cause.message, type=cause.type, non_retryable=True)
    return error


def typed_error(failure: BaseException) -> CroupierError | None:
    """The typed error a failure chain carries (by ``ApplicationError.type``), if any."""
    current: BaseException | None = failure
    while current is not None:
        if isinstance(current, ApplicationError) and current.type:
            error_type = _error_types().get(current.type)
            if error_type is not None:
                return error_type(current.message)
            return _UnknownRefusal(f"{current.type}: {current.message}")
        current = (
            current.__cause__ if current.__cause__ is not None else getattr(current, "cause", None)
        )
    return None


def typed_or_unavailable(failure: BaseException) -> CroupierError:
    """The typed error a failed call carries, or ``ServiceUnavailable`` when it carries none."""
    typed = typed_error(failure)
    if typed is None:
        return ServiceUnavailable(f"the workflow failed the request: {failure}")
    return typed


async def answered(
    call: Callable[[], Awaitable[T]], *, timeout_s: float, not_found: CroupierError
) -> T:
    """Run an API-side call on a workflow within ``timeout_s``, failures as typed errors.

    A refusal comes back as its typed error, a missing workflow as ``not_found``, and a
    timeout or an unreachable server as ``ServiceUnavailable`` (a retry with the same
    Idempotency-Key then gets the first result).
    """
    try:
        return await asyncio.wait_for(call(), timeout=timeout_s)
    except (WorkflowUpdateFailedError, WorkflowFailureError) as error:
        raise typed_or_unavailable(error) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise ServiceUnavailable(
            f"no answer within {timeout_s:.0f} s; retry with the same Idempotency-Key"
        ) from None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise not_found from None
        raise ServiceUnavailable(f"Temporal refused the call: {error.message}") from None


class _UnknownRefusal(Conflict):
    """A refusal with a code no loaded error class has (a newer worker's, say)."""

    code = "refused"


def _error_types() -> dict[str, type[CroupierError]]:
    """Every loaded error class by code; a subclass that inherits its parent's code
    (visited after it) does not replace it."""
    found: dict[str, type[CroupierError]] = {}
    pending: list[type[CroupierError]] = [CroupierError]
    while pending:
        error_type = pending.pop()
        pending.extend(error_type.__subclasses__())
        if error_type is not RateLimited:  # needs a retry delay, never crosses workflows
            found.setdefault(error_type.code, error_type)
    return found
