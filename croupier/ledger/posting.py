"""The posting engine: transfers, holds, their posting or voiding, batches, expiry.

Semantics follow TigerBeetle's:

- A transfer moves ``amount`` from its debit account to its credit account at once.
- A hold reserves it: the pending amount counts against the debit account's available
  balance until the hold is posted (all or part; a partial post releases the rest),
  voided, or expires.
- Balance limits (player funds never below zero, wallets never below nothing) are
  checked in the same statement that moves the money, against balance rows locked in a
  global order, so concurrent postings cannot overdraw and cannot deadlock.
- Linked movements succeed or fail together: pass one ``Connection`` to several calls
  inside one transaction, or use :func:`transfer_batch`, which is all or nothing.
- Ids are idempotency keys with Stripe semantics: the same id with the same content
  returns the stored transfer (``replayed=True``) and writes nothing; other content is an
  ``IdempotencyConflict``. Duplicates racing on two connections write once (the unique
  ``transfer_ids`` row decides, not a pre-check).

Each call is one statement and one round trip: the work is done by the SQL functions of
migration ``0002_ledger_posting``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from croupier.core.clock import Clock
from croupier.core.errors import InvalidInput
from croupier.core.money import Currency
from croupier.ledger.connections import Bind, call
from croupier.ledger.errors import InvalidTransfer, ledger_errors
from croupier.ledger.kinds import TransferPhase, TransferStatus, TransferType
from croupier.ledger.requests import (
    HoldRequest,
    Movement,
    PostPendingRequest,
    TransferRequest,
    VoidPendingRequest,
)

# TigerBeetle's batches hold 8,190 transfers; ours stay just under, so one batch is one
# statement of bounded size (a few MB of parameters at most).
MAX_BATCH_SIZE = 8000
MAX_EXPIRE_LIMIT = 10_000
DEFAULT_EXPIRE_LIMIT = 1000

_TRANSFER = "SELECT * FROM ledger_transfer(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)"
_RESOLVE = "SELECT * FROM ledger_resolve_pending(%s, %s, %s, %s, %s::jsonb)"
_BATCH = (
    "SELECT * FROM ledger_transfer_batch("
    "%s::text[], %s::bigint[], %s::bigint[], %s::numeric[], %s::text[], %s::text[], "
    "%s::text[], %s::jsonb[], %s::boolean[], %s::integer[])"
)
_EXPIRE = "SELECT ledger_expire_pending(%s, %s)"


@dataclass(frozen=True, slots=True)
class TransferResult:
    """A transfer as the journal holds it. ``replayed`` is True when the id was already
    used with this content and nothing was written; ``status`` is then the current one
    (a replayed hold may since have been posted)."""

    id: str
    phase: TransferPhase
    status: TransferStatus
    debit_account_id: int
    credit_account_id: int
    amount: int
    currency: Currency
    type: TransferType
    reference_id: str | None
    pending_id: str | None
    timeout_s: int | None
    expires_at: datetime | None
    created_at: datetime
    replayed: bool


def transfer(bind: Bind, request: TransferRequest) -> TransferResult:
    """Move money at once, or refuse (``InsufficientFunds``, ``AccountNotFound``, ...)."""
    return _movement(bind, request, timeout_s=None)


def hold(bind: Bind, request: HoldRequest) -> TransferResult:
    """Reserve money until :func:`post_pending`, :func:`void_pending` or the timeout."""
    return _movement(bind, request, timeout_s=request.timeout_s)


def post_pending(bind: Bind, request: PostPendingRequest) -> TransferResult:
    """Post a hold (all of it, or ``request.amount`` of it, releasing the rest)."""
    params = (request.id, request.pending_id, True, request.amount, request.metadata_json)
    return _call(bind, _RESOLVE, params)


def void_pending(bind: Bind, request: VoidPendingRequest) -> TransferResult:
    """Release a hold; the reserved money stays where it was."""
    params = (request.id, request.pending_id, False, None, request.metadata_json)
    return _call(bind, _RESOLVE, params)


def transfer_batch(
    bind: Bind, requests: Sequence[TransferRequest | HoldRequest]
) -> tuple[TransferResult, ...]:
    """Post many transfers and holds in one statement: all of them, or none.

    Items are applied in order, each seeing the effect of those before it (a deposit
    early in the batch can fund a bet later in it), exactly as if each had been posted
    alone in one transaction. Items whose id was already used with the same content are
    replays. A refusal names the first refused item (1-based) and writes nothing.
    """
    _check_batch(requests)
    columns = _batch_columns(requests)
    with ledger_errors():
        rows = call(bind, _BATCH, columns)
    assert len(rows) == len(requests), "the batch function returns one row per item"
    return tuple(_batch_result(request, row) for request, row in zip(requests, rows, strict=True))


def expire_pending(
    bind: Bind, clock: Clock, *, limit: int = DEFAULT_EXPIRE_LIMIT
) -> tuple[str, ...]:
    """Expire up to ``limit`` holds whose timeout passed by ``clock.now()``, oldest first.

    Their reserved amounts are released. Holds being posted or voided at this moment are
    skipped (the posting decides them). Returns the ids of the expired holds; a sweeper
    calls this until it returns fewer than ``limit``.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_EXPIRE_LIMIT:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_EXPIRE_LIMIT}")
    now = clock.now()
    if now.tzinfo is None:
        raise InvalidInput("the clock must give timezone-aware times")
    with ledger_errors():
        rows = call(bind, _EXPIRE, (now, limit))
    return tuple(str(row[0]) for row in rows)


def _movement(bind: Bind, request: Movement, *, timeout_s: int | None) -> TransferResult:
    params = (
        request.id,
        request.debit_account_id,
        request.credit_account_id,
        request.amount,
        request.currency.value,
        request.type.value,
        request.reference_id,
        request.metadata_json,
        request.pending,
        timeout_s,
    )
    return _call(bind, _TRANSFER, params)


def _call(bind: Bind, sql: str, params: tuple[Any, ...]) -> TransferResult:
    with ledger_errors():
        [row] = call(bind, sql, params)
    # Columns of the ledger_posting composite type, in order.
    (
        transfer_id,
        phase,
        status,
        debit_account_id,
        credit_account_id,
        amount,
        currency,
        transfer_type,
        reference_id,
        pending_id,
        timeout_s,
        expires_at,
        created_at,
        replayed,
    ) = row
    return TransferResult(
        id=transfer_id,
        phase=TransferPhase(phase),
        status=TransferStatus(status),
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=_int(amount),
        currency=Currency(currency),
        type=TransferType(transfer_type),
        reference_id=reference_id,
        pending_id=pending_id,
        timeout_s=timeout_s,
        expires_at=expires_at,
        created_at=created_at,
        replayed=replayed,
    )


def _check_batch(requests: Sequence[TransferRequest | HoldRequest]) -> None:
    if not 1 <= len(requests) <= MAX_BATCH_SIZE:
        raise InvalidTransfer(f"a batch holds 1 to {MAX_BATCH_SIZE} items, got {len(requests)}")
    seen: set[str] = set()
    for position, request in enumerate(requests, start=1):
        if not isinstance(request, TransferRequest | HoldRequest):
            raise InvalidTransfer(
                f"item {position}: a batch holds transfers and holds, not {type(request).__name__}"
            )
        if request.id in seen:
            raise InvalidTransfer(f"transfer id {request.id} appears more than once in the batch")
        seen.add(request.id)


def _batch_columns(requests: Sequence[TransferRequest | HoldRequest]) -> tuple[list[Any], ...]:
    """The batch as ten parallel arrays: one parameter per column, not per item."""
    return (
        [r.id for r in requests],
        [r.debit_account_id for r in requests],
        [r.credit_account_id for r in requests],
        [str(r.amount) for r in requests],
        [r.currency.value for r in requests],
        [r.type.value for r in requests],
        [r.reference_id for r in requests],
        [r.metadata_json for r in requests],
        [r.pending for r in requests],
        [r.timeout_s if isinstance(r, HoldRequest) else None for r in requests],
    )


def _batch_result(request: TransferRequest | HoldRequest, row: tuple[Any, ...]) -> TransferResult:
    _position, status, expires_at, created_at, replayed = row
    return TransferResult(
        id=request.id,
        phase=TransferPhase.HOLD if request.pending else TransferPhase.SINGLE,
        status=TransferStatus(status),
        debit_account_id=request.debit_account_id,
        credit_account_id=request.credit_account_id,
        amount=request.amount,
        currency=request.currency,
        type=request.type,
        reference_id=request.reference_id,
        pending_id=None,
        timeout_s=request.timeout_s if isinstance(request, HoldRequest) else None,
        expires_at=expires_at,
        created_at=created_at,
        replayed=replayed,
    )


def _int(value: Decimal) -> int:
    """NUMERIC(78,0) arrives as Decimal; money leaves as int, exactly."""
    assert value == value.to_integral_value(), f"fractional amount {value} in the ledger"
    return int(value)
