"""Typed errors shared by every package.

Each error carries a stable ``code`` so the API can map it once to a problem body
and activities can map it once to a non-retryable ``ApplicationError`` type.
"""

from __future__ import annotations


class CroupierError(Exception):
    """Base of every error Croupier raises on purpose."""

    code = "croupier_error"


class InvalidInput(CroupierError, ValueError):
    """A caller gave a value that can never be accepted (not a transient fault)."""

    code = "invalid_input"


class InvalidAmount(InvalidInput):
    """An amount is not a valid number of minor units for its currency."""

    code = "invalid_amount"


class UnknownCurrency(InvalidInput):
    """A currency code Croupier does not support."""

    code = "unknown_currency"


class ConfigurationError(CroupierError):
    """A setting is missing or malformed; the message names the variable."""

    code = "configuration_error"


class ServiceUnavailable(CroupierError):
    """A dependency (database, Temporal, chain node) cannot be reached in time."""

    code = "service_unavailable"


class NotFound(CroupierError):
    """A referenced entity does not exist."""

    code = "not_found"


class Conflict(CroupierError):
    """The request conflicts with the current state (retrying it unchanged will not help)."""

    code = "conflict"


class IdempotencyConflict(Conflict):
    """The same idempotency key was reused with different content."""

    code = "idempotency_conflict"


class InsufficientFunds(Conflict):
    """A movement would take an account past its balance limit."""

    code = "insufficient_funds"


class Unauthenticated(CroupierError):
    """The caller did not prove who they are: missing, wrong, expired or revoked credentials."""

    code = "unauthenticated"


class PermissionDenied(CroupierError):
    """The caller is known, but their role may not do this."""

    code = "permission_denied"


class RateLimited(CroupierError):
    """Too many requests from one caller; ``retry_after_s`` says when one would be accepted."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        assert retry_after_s >= 1, "a refusal always names a wait of at least a second"
        self.retry_after_s = retry_after_s
