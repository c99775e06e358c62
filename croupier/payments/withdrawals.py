"""Withdrawals: the record, the hold, and how the hold ends (posted or released).

Ledger movements, all keyed by the withdrawal id (see ``keys.withdrawal_transfer_id``):

- opening holds ``amount + fee``: ``player_cash -> withdrawals_pending`` (pending);
- settling, once the transaction is final on chain, posts the hold and moves it on:
  ``withdrawals_pending -> hot_wallet`` (the amount that left), ``withdrawals_pending ->
  fees`` (the fee), and the network fee the hot wallet paid, ``fees -> hot_wallet`` in
  the chain's native coin (ETH, or BTC), so the hot wallet's ledger balance follows
  its balance on chain;
- releasing (rejected, cancelled, expired, failed) voids the hold; a transaction that
  reverted still cost gas, which is posted the same way.

Each step is one database transaction that also writes the row's status, so the record
and the ledger never disagree, and each is idempotent (a retried step replays).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, Row, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.core.errors import IdempotencyConflict, InsufficientFunds
from croupier.core.money import Currency, native_currency
from croupier.identity.tables import users
from croupier.ledger.accounts import player_account, system_account
from croupier.ledger.connections import Bind, single_statement
from croupier.ledger.kinds import AccountKind, TransferType
from croupier.ledger.posting import hold, post_pending, transfer, void_pending
from croupier.ledger.requests import (
    HoldRequest,
    PostPendingRequest,
    TransferRequest,
    VoidPendingRequest,
)
from croupier.payments.errors import HotWalletLedgerShort, WithdrawalNotFound
from croupier.payments.keys import withdrawal_transfer_id, withdrawal_workflow_id
from croupier.payments.risk import WithdrawalFacts, check_daily_limit
from croupier.payments.rules import WithdrawalRequest
from croupier.payments.states import RELEASED_WITHDRAWAL_STATUSES, WithdrawalStatus
from croupier.payments.tables import withdrawals

DAILY_WINDOW_S = 24 * 3600
MAX_REASON_CHARS = 500
_RELEASED = [status.value for status in RELEASED_WITHDRAWAL_STATUSES]


@dataclass(frozen=True, slots=True)
class WithdrawalRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    currency: Currency
    amount: int
    fee: int
    to_address: str
    status: WithdrawalStatus
    review_reasons: tuple[str, ...]
    decided_by: uuid.UUID | None
    decision_reason: str | None
    approval_reminders: int
    tx_hash: str | None
    created_at: datetime
    updated_at: datetime


# Runs inside the transaction that records a staff decision (the caller's audit row), so
# the decision and its record commit together; payments itself knows no audit log.
DecisionHook = Callable[[Connection, WithdrawalRecord], None]


def open_withdrawal(
    engine: Engine,
    withdrawal_id: uuid.UUID,
    user_id: uuid.UUID,
    request: WithdrawalRequest,
    *,
    daily_limit: int,
) -> WithdrawalRecord:
    """Check the daily limit, record the withdrawal and hold ``amount + fee``, atomically.

    ``daily_limit`` is what the player may withdraw of the currency per rolling 24 hours
    (their KYC level's, which the caller reads: payments knows no KYC). A refusal
    (``DailyLimitExceeded``, ``InsufficientFunds``) writes nothing. Opening the same id
    again with the same request returns the stored withdrawal.
    """
    with engine.begin() as conn:
        existing = _find(conn, withdrawal_id)
        if existing is not None:
            return _same_request(_record(existing), user_id, request)
        # One player's withdrawals open one at a time, so two racing requests cannot
        # both fit under the daily limit.
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"withdrawals:{user_id}"},
        )
        check_daily_limit(
            request.currency,
            request.amount,
            _withdrawn_since(conn, user_id, request.currency, DAILY_WINDOW_S),
            daily_limit,
        )
        conn.execute(
            pg_insert(withdrawals).values(
                id=withdrawal_id,
                user_id=user_id,
                currency=request.currency.value,
                amount=request.amount,
                fee=request.fee,
                to_address=request.address,
                status=WithdrawalStatus.HELD.value,
                review_reasons=[],
                approval_reminders=0,
            )
        )
        cash = player_account(conn, str(user_id), AccountKind.PLAYER_CASH, request.currency)
        pending = system_account(conn, AccountKind.WITHDRAWALS_PENDING, request.currency)
        hold(
            conn,
            HoldRequest(
                id=withdrawal_transfer_id(withdrawal_id, "hold"),
                debit_account_id=cash.id,
                credit_account_id=pending.id,
                amount=request.hold_amount,
                currency=request.currency,
                type=TransferType.WITHDRAW,
                reference_id=withdrawal_workflow_id(withdrawal_id),
                metadata={"to": request.address, "fee": str(request.fee)},
            ),
        )
        return _record(_row(conn, withdrawal_id))


def risk_facts(
    bind: Bind, withdrawal: WithdrawalRecord, *, velocity_window_s: int, kyc_level: int
) -> WithdrawalFacts:
    """What the risk policy needs, read in one snapshot (``kyc_level`` from the caller,
    as payments knows no KYC). Bonuses are not modelled here yet, so ``open_bonus`` is
    False."""
    with single_statement(bind) as conn:
        account_age_s = conn.execute(
            select(func.extract("epoch", func.now() - users.c.created_at)).where(
                users.c.id == withdrawal.user_id
            )
        ).scalar_one()
        recent = conn.execute(
            select(func.count()).where(
                withdrawals.c.user_id == withdrawal.user_id,
                withdrawals.c.id != withdrawal.id,
                withdrawals.c.status.not_in(_RELEASED),
                withdrawals.c.created_at > func.now() - _seconds(velocity_window_s),
            )
        ).scalar_one()
    return WithdrawalFacts(
        currency=withdrawal.currency,
        amount=withdrawal.amount,
        account_age_s=max(int(account_age_s), 0),
        recent_withdrawals=int(recent),
        kyc_level=kyc_level,
        open_bonus=False,
    )


def record_review(
    engine: Engine, withdrawal_id: uuid.UUID, reasons: Sequence[str], *, paused: bool = False
) -> WithdrawalRecord:
    """Waiting for compliance (the reasons why), else parked while the circuit breaker
    pauses auto-approval, else approved automatically."""
    if reasons:
        status = WithdrawalStatus.AWAITING_APPROVAL
    elif paused:
        status = WithdrawalStatus.PAUSED
    else:
        status = WithdrawalStatus.APPROVED
    return _transition(
        engine,
        withdrawal_id,
        from_=(WithdrawalStatus.HELD,),
        to=status,
        review_reasons=list(reasons),
    )


def record_approval(
    engine: Engine,
    withdrawal_id: uuid.UUID,
    staff_id: uuid.UUID,
    reason: str,
    *,
    on_decided: DecisionHook | None = None,
) -> WithdrawalRecord:
    """Record a compliance approval; ``on_decided`` runs in the same transaction, once."""
    return _transition(
        engine,
        withdrawal_id,
        from_=(WithdrawalStatus.AWAITING_APPROVAL, WithdrawalStatus.PAUSED),
        to=WithdrawalStatus.APPROVED,
        on_moved=on_decided,
        decided_by=staff_id,
        decision_reason=reason[:MAX_REASON_CHARS],
    )


def record_unpaused(engine: Engine, withdrawal_id: uuid.UUID) -> WithdrawalRecord:
    """The circuit breaker closed: a parked withdrawal is approved automatically."""
    return _transition(
        engine, withdrawal_id, from_=(WithdrawalStatus.PAUSED,), to=WithdrawalStatus.APPROVED
    )


def account_created_at(bind: Bind, user_id: uuid.UUID) -> datetime:
    with single_statement(bind) as conn:
        created_at: datetime = conn.execute(
            select(users.c.created_at).where(users.c.id == user_id)
        ).scalar_one()
    return created_at


def record_reminder(engine: Engine, withdrawal_id: uuid.UUID) -> WithdrawalRecord:
    with engine.begin() as conn:
        conn.execute(
            update(withdrawals)
            .where(
                withdrawals.c.id == withdrawal_id,
                withdrawals.c.status == WithdrawalStatus.AWAITING_APPROVAL.value,
            )
            .values(approval_reminders=withdrawals.c.approval_reminders + 1, updated_at=func.now())
        )
        return _record(_row(conn, withdrawal_id))


def record_sending(
    engine: Engine, withdrawal_id: uuid.UUID, *, tx_hash: str | None = None
) -> WithdrawalRecord:
    """Queued at the sender (no hash; a repeat after the broadcast changes nothing), or
    broadcast (with the latest hash: a replacement has a new one)."""
    if tx_hash is None:
        return _transition(
            engine,
            withdrawal_id,
            from_=(WithdrawalStatus.APPROVED,),
            to=WithdrawalStatus.SENDING,
            already=(WithdrawalStatus.BROADCAST,),
        )
    return _transition(
        engine,
        withdrawal_id,
        from_=(WithdrawalStatus.APPROVED, WithdrawalStatus.SENDING, WithdrawalStatus.BROADCAST),
        to=WithdrawalStatus.BROADCAST,
        tx_hash=tx_hash,
    )


def settle(
    engine: Engine, withdrawal_id: uuid.UUID, *, tx_hash: str, gas_paid_wei: int
) -> WithdrawalRecord:
    """Post the hold and move it on (hot wallet, fees), and post the gas, at once."""
    with engine.begin() as conn:
        record = _record(_row(conn, withdrawal_id, for_update=True))
        if record.status is WithdrawalStatus.COMPLETED:
            return record
        assert record.status in (WithdrawalStatus.SENDING, WithdrawalStatus.BROADCAST), (
            f"withdrawal {withdrawal_id} is {record.status.value}; only a sent one settles"
        )
        post_pending(
            conn,
            PostPendingRequest(
                id=withdrawal_transfer_id(withdrawal_id, "post"),
                pending_id=withdrawal_transfer_id(withdrawal_id, "hold"),
                metadata={"tx_hash": tx_hash},
            ),
        )
        pending = system_account(conn, AccountKind.WITHDRAWALS_PENDING, record.currency)
        hot = system_account(conn, AccountKind.HOT_WALLET, record.currency)
        with _hot_wallet_funded(withdrawal_id):
            _move(conn, record, "payout", pending.id, hot.id, record.amount, record.currency)
            if record.fee:
                fees = system_account(conn, AccountKind.FEES, record.currency)
                _move(conn, record, "fee", pending.id, fees.id, record.fee, record.currency)
            _post_gas(conn, record, gas_paid_wei)
        return _finish(conn, withdrawal_id, WithdrawalStatus.COMPLETED, tx_hash=tx_hash)


def release(
    engine: Engine,
    withdrawal_id: uuid.UUID,
    status: WithdrawalStatus,
    *,
    reason: str,
    decided_by: uuid.UUID | None = None,
    gas_paid_wei: int = 0,
    on_decided: DecisionHook | None = None,
) -> WithdrawalRecord:
    """End without paying: void the hold (and post any gas a reverted send burnt).

    ``on_decided`` (a staff rejection's audit row) runs last in the same transaction,
    and only the time the withdrawal is released: a retry does not run it again.
    """
    assert status in RELEASED_WITHDRAWAL_STATUSES, f"{status} does not release a hold"
    with engine.begin() as conn:
        record = _record(_row(conn, withdrawal_id, for_update=True))
        if record.status is status:
            return record
        assert not record.status.is_final, (
            f"withdrawal {withdrawal_id} is already {record.status.value}"
        )
        void_pending(
            conn,
            VoidPendingRequest(
                id=withdrawal_transfer_id(withdrawal_id, "void"),
                pending_id=withdrawal_transfer_id(withdrawal_id, "hold"),
                metadata={"status": status.value},
            ),
        )
        with _hot_wallet_funded(withdrawal_id):
            _post_gas(conn, record, gas_paid_wei)
        released = _finish(
            conn,
            withdrawal_id,
            status,
            decided_by=decided_by,
            decision_reason=reason[:MAX_REASON_CHARS],
        )
        if on_decided is not None:
            on_decided(conn, released)
        return released


def get_withdrawal(bind: Bind, withdrawal_id: uuid.UUID) -> WithdrawalRecord:
    with single_statement(bind) as conn:
        return _record(_row(conn, withdrawal_id))


def _same_request(
    record: WithdrawalRecord, user_id: uuid.UUID, request: WithdrawalRequest
) -> WithdrawalRecord:
    same = (record.user_id, record.currency, record.amount, record.to_address) == (
        user_id,
        request.currency,
        request.amount,
        request.address,
    )
    if not same:
        raise IdempotencyConflict(f"withdrawal {record.id} exists with other content")
    return record


def _withdrawn_since(
    conn: Connection, user_id: uuid.UUID, currency: Currency, window_s: int
) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(withdrawals.c.amount), 0)).where(
            withdrawals.c.user_id == user_id,
            withdrawals.c.currency == currency.value,
            withdrawals.c.status.not_in(_RELEASED),
            withdrawals.c.created_at > func.now() - _seconds(window_s),
        )
    ).scalar_one()
    return int(total)


def _move(
    conn: Connection,
    record: WithdrawalRecord,
    leg: str,
    debit_account_id: int,
    credit_account_id: int,
    amount: int,
    currency: Currency,
) -> None:
    transfer(
        conn,
        TransferRequest(
            id=withdrawal_transfer_id(record.id, leg),
            debit_account_id=debit_account_id,
            credit_account_id=credit_account_id,
            amount=amount,
            currency=currency,
            type=TransferType.FEE if leg in ("fee", "gas") else TransferType.WITHDRAW,
            reference_id=withdrawal_workflow_id(record.id),
        ),
    )


def _post_gas(conn: Connection, record: WithdrawalRecord, gas_paid_wei: int) -> None:
    """The network fee: an expense of the casino (``fees``), paid from the hot wallet."""
    assert gas_paid_wei >= 0
    if gas_paid_wei == 0:
        return
    # Paid in the chain's native coin whatever was withdrawn (USDT's gas is ETH).
    native = native_currency(record.currency.chain)
    fees = system_account(conn, AccountKind.FEES, native)
    hot = system_account(conn, AccountKind.HOT_WALLET, native)
    _move(conn, record, "gas", fees.id, hot.id, gas_paid_wei, native)


@contextmanager
def _hot_wallet_funded(withdrawal_id: uuid.UUID) -> Iterator[None]:
    """Turn the hot wallet's ledger limit into ``HotWalletLedgerShort`` (retryable)."""
    try:
        yield
    except InsufficientFunds as error:
        raise HotWalletLedgerShort(
            f"settling withdrawal {withdrawal_id} would take the hot wallet's ledger "
            f"balance below zero: {error}"
        ) from error


def _transition(
    engine: Engine,
    withdrawal_id: uuid.UUID,
    *,
    from_: Sequence[WithdrawalStatus],
    to: WithdrawalStatus,
    already: Sequence[WithdrawalStatus] = (),
    on_moved: DecisionHook | None = None,
    **values: object,
) -> WithdrawalRecord:
    """Move to ``to`` if the withdrawal is in one of ``from_``; being in ``to`` already
    (a retry) or in one of ``already`` (past it) is fine too. ``on_moved`` runs in the
    transaction only when this call made the move."""
    with engine.begin() as conn:
        moved = conn.execute(
            update(withdrawals)
            .where(
                withdrawals.c.id == withdrawal_id,
                withdrawals.c.status.in_([status.value for status in from_]),
            )
            .values(status=to.value, updated_at=func.now(), **values)
        ).rowcount
        record = _record(_row(conn, withdrawal_id))
        if moved and on_moved is not None:
            on_moved(conn, record)
    assert record.status is to or record.status in already, (
        f"withdrawal {withdrawal_id} is {record.status.value}, cannot become {to.value}"
    )
    return record


def _finish(
    conn: Connection, withdrawal_id: uuid.UUID, status: WithdrawalStatus, **values: object
) -> WithdrawalRecord:
    conn.execute(
        update(withdrawals)
        .where(withdrawals.c.id == withdrawal_id)
        .values(status=status.value, updated_at=func.now(), **values)
    )
    return _record(_row(conn, withdrawal_id))


def _seconds(seconds: int) -> object:
    return func.make_interval(0, 0, 0, 0, 0, 0, seconds)


def _find(conn: Connection, withdrawal_id: uuid.UUID) -> Row[tuple[object, ...]] | None:
    return conn.execute(select(withdrawals).where(withdrawals.c.id == withdrawal_id)).one_or_none()


def _row(
    conn: Connection, withdrawal_id: uuid.UUID, *, for_update: bool = False
) -> Row[tuple[object, ...]]:
    query = select(withdrawals).where(withdrawals.c.id == withdrawal_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise WithdrawalNotFound(f"no withdrawal {withdrawal_id}")
    return row


def _record(row: Row[tuple[object, ...]]) -> WithdrawalRecord:
    return WithdrawalRecord(
        id=row.id,
        user_id=row.user_id,
        currency=Currency(row.currency),
        amount=int(row.amount),
        fee=int(row.fee),
        to_address=row.to_address,
        status=WithdrawalStatus(row.status),
        review_reasons=tuple(row.review_reasons),
        decided_by=row.decided_by,
        decision_reason=row.decision_reason,
        approval_reminders=row.approval_reminders,
        tx_hash=row.tx_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
