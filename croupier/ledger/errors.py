"""Typed refusals of the ledger, and the one place database errors become them.

The posting functions in PostgreSQL raise with SQLSTATEs of class ``CL`` (for Croupier
Ledger); :func:`translate` maps each to an error class here. Every refusal happens inside
the statement that would have written, so a refused posting has written nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.exc import DBAPIError

from croupier.core.errors import (
    Conflict,
    CroupierError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    NotFound,
)

__all__ = [
    "AccountClosed",
    "AccountNotEmpty",
    "AccountNotFound",
    "CurrencyMismatch",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidTransfer",
    "LedgerImmutable",
    "NotAPendingTransfer",
    "PartialPostExceedsHold",
    "PendingAlreadyPosted",
    "PendingAlreadyVoided",
    "PendingExpired",
    "PendingTransferNotFound",
    "ledger_errors",
    "translate",
]


class AccountNotFound(NotFound):
    """No account has this id (or this kind, owner and currency)."""

    code = "account_not_found"


class AccountClosed(Conflict):
    """The account was closed; it takes no new movements."""

    code = "account_closed"


class AccountNotEmpty(Conflict):
    """Only an account with a zero balance and nothing pending can be closed."""

    code = "account_not_empty"


class CurrencyMismatch(InvalidInput):
    """A movement's currency differs from the currency of one of its accounts."""

    code = "currency_mismatch"


class InvalidTransfer(InvalidInput):
    """A movement that can never be valid: same account on both sides, bad id, bad batch."""

    code = "invalid_transfer"


class PendingTransferNotFound(NotFound):
    """No transfer has the pending id given to a post or void."""

    code = "pending_transfer_not_found"


class NotAPendingTransfer(InvalidInput):
    """The pending id names a transfer that was never a hold (a plain transfer, a post)."""

    code = "not_a_pending_transfer"


class PendingAlreadyPosted(Conflict):
    """The hold was already posted (by another post id)."""

    code = "pending_already_posted"


class PendingAlreadyVoided(Conflict):
    """The hold was already voided."""

    code = "pending_already_voided"


class PendingExpired(Conflict):
    """The hold's timeout passed; its funds are (or are about to be) released."""

    code = "pending_expired"


class PartialPostExceedsHold(InvalidInput):
    """A post asked for more than the hold reserved."""

    code = "partial_post_exceeds_hold"


class LedgerImmutable(Conflict):
    """The database refused to change or delete a journal row; corrections are new transfers."""

    code = "ledger_immutable"


_BY_SQLSTATE: dict[str, type[CroupierError]] = {
    "CL001": InsufficientFunds,
    "CL010": AccountNotFound,
    "CL011": AccountClosed,
    "CL012": CurrencyMismatch,
    "CL020": IdempotencyConflict,
    "CL030": PendingTransferNotFound,
    "CL031": PendingAlreadyPosted,
    "CL032": PendingAlreadyVoided,
    "CL033": PendingExpired,
    "CL034": PartialPostExceedsHold,
    "CL035": NotAPendingTransfer,
    "CL040": InvalidTransfer,
    "CL041": InvalidAmount,
    "CL090": LedgerImmutable,
    # Constraint backstops: the Python layer validates first, so these mean a caller
    # bypassed it (raw SQL) and still gets a typed refusal.
    "23514": InvalidTransfer,  # check_violation
    "22003": InvalidAmount,  # numeric_value_out_of_range: a balance would overflow
}


# The CHECK constraints that back the posting functions' balance limit checks.
_BALANCE_LIMIT_CONSTRAINTS = frozenset(
    {
        "ck_account_balances_debits_within_credits",
        "ck_account_balances_credits_within_debits",
    }
)


def translate(error: DBAPIError | psycopg.Error) -> CroupierError | None:
    """The typed ledger error a database error stands for, or None if it is not one.

    Accepts SQLAlchemy's wrapper and psycopg's own errors (the posting hot path talks to
    psycopg directly, see ``croupier.ledger.connections.call``).
    """
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    if not isinstance(driver_error, psycopg.Error):
        return None
    error_type = _BY_SQLSTATE.get(driver_error.sqlstate or "")
    if driver_error.diag.constraint_name in _BALANCE_LIMIT_CONSTRAINTS:
        error_type = InsufficientFunds
    if error_type is None:
        return None
    message = driver_error.diag.message_primary or str(driver_error)
    return error_type(message)


@contextmanager
def ledger_errors() -> Iterator[None]:
    """Re-raise ledger refusals from the database as typed errors; let others through."""
    try:
        yield
    except (DBAPIError, psycopg.Error) as error:
        typed = translate(error)
        if typed is None:
            raise
        raise typed from error
