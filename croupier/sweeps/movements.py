"""Treasury movements and their ledger legs: held while in flight, posted once final.

Which accounts a movement touches (debit <- credit, the coins flowing from the credited
wallet to the debited one):

- sweep:         ``cold_wallet(cold address) <- hot_wallet``
- top_up:        ``deposits_in_flight <- hot_wallet`` (native coin, for a token's gas)
- consolidation: ``hot_wallet <- deposits_in_flight``
- refill:        ``hot_wallet <- cold_wallet(cold address)``

``deposits_in_flight`` is the casino's asset "coins sitting at deposit addresses"
(credited deposits moved it to the players' cash); moving them to the hot wallet changes
where the casino holds them, not what it owes. The network fee is paid in the native
coin by the sending wallet: ``fees <- sender`` (the hot wallet for sweeps and top-ups,
``deposits_in_flight`` for consolidations, the cold wallet for refills).

Opening a movement holds both legs (the amount, and the most the fee can be), so while
it is in flight reconciliation sees it as pending on both wallets and a second sweep
cannot spend the same coins. When the transaction is final at depth the amount hold is
posted (voided if it reverted), the fee hold voided and the fee actually paid booked,
so each wallet's ledger balance follows its balance on chain exactly. Every step is one
database transaction keyed by the movement id: safe to repeat.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, Engine, Row, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.core.errors import IdempotencyConflict, InsufficientFunds
from croupier.core.money import Currency
from croupier.ledger.accounts import AccountSpec, open_account, system_account
from croupier.ledger.connections import Bind, single_statement
from croupier.ledger.kinds import AccountKind, TransferType
from croupier.ledger.posting import hold, post_pending, transfer, void_pending
from croupier.ledger.requests import (
    HoldRequest,
    PostPendingRequest,
    TransferRequest,
    VoidPendingRequest,
)
from croupier.sweeps.errors import WalletLedgerShort
from croupier.sweeps.keys import NATIVE_CURRENCY, transfer_id
from croupier.sweeps.tables import treasury_movements

MAX_LISTED = 500


class MovementKind(StrEnum):
    SWEEP = "sweep"
    TOP_UP = "top_up"
    CONSOLIDATION = "consolidation"
    REFILL = "refill"


class MovementStatus(StrEnum):
    HELD = "held"  # in flight: the ledger holds both legs
    COMPLETED = "completed"  # final on chain and posted
    FAILED = "failed"  # reverted on chain (its fee is booked), or refused unsigned
    CANCELLED = "cancelled"  # never went out; both holds voided

    @property
    def is_final(self) -> bool:
        return self is not MovementStatus.HELD


@dataclass(frozen=True, slots=True)
class NewMovement:
    """A movement to open. ``fee_reserved`` is in the chain's native coin."""

    id: str
    kind: MovementKind
    chain: str
    currency: Currency
    from_address: str
    to_address: str
    amount: int
    fee_reserved: int
    workflow_id: str
    hd_index: int | None = None
    send_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        assert self.amount > 0 and self.fee_reserved >= 0
        assert Currency(self.currency).chain == self.chain
        assert (self.kind in (MovementKind.SWEEP, MovementKind.TOP_UP)) == (
            self.send_id is not None
        ), "sweeps and top-ups go through the Hot Wallet Sender"
        assert (self.kind is MovementKind.CONSOLIDATION) == (self.hd_index is not None)


@dataclass(frozen=True, slots=True)
class Movement:
    id: str
    kind: MovementKind
    chain: str
    currency: Currency
    from_address: str
    to_address: str
    hd_index: int | None
    amount: int
    fee_reserved: int
    send_id: uuid.UUID | None
    status: MovementStatus
    tx_hash: str | None
    fee_paid: int | None
    workflow_id: str

    @property
    def native(self) -> Currency:
        return NATIVE_CURRENCY[self.chain]


def open_movement(conn: Connection, new: NewMovement) -> Movement:
    """Record the movement and hold its legs, in the caller's transaction. Opening the
    same movement again returns it; the same id with other content is refused."""
    inserted = conn.execute(
        pg_insert(treasury_movements)
        .values(
            id=new.id,
            kind=new.kind.value,
            chain=new.chain,
            currency=new.currency.value,
            from_address=new.from_address,
            to_address=new.to_address,
            hd_index=new.hd_index,
            amount=new.amount,
            fee_reserved=new.fee_reserved,
            send_id=new.send_id,
            status=MovementStatus.HELD.value,
            workflow_id=new.workflow_id,
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(treasury_movements.c.id)
    ).first()
    movement = _movement(_row(conn, new.id))
    if inserted is None:
        if not _same(movement, new):
            raise IdempotencyConflict(f"movement {new.id} exists with other content")
        return movement
    debit, credit, fee_payer = _accounts(conn, movement)
    hold(
        conn,
        HoldRequest(
            id=transfer_id(movement.id, "hold"),
            debit_account_id=debit,
            credit_account_id=credit,
            amount=movement.amount,
            currency=movement.currency,
            type=_transfer_type(movement.kind),
            reference_id=movement.id,
        ),
    )
    if movement.fee_reserved:
        hold(
            conn,
            HoldRequest(
                id=transfer_id(movement.id, "fee-hold"),
                debit_account_id=system_account(conn, AccountKind.FEES, movement.native).id,
                credit_account_id=fee_payer,
                amount=movement.fee_reserved,
                currency=movement.native,
                type=TransferType.FEE,
                reference_id=movement.id,
            ),
        )
    return movement


def settle_movement(
    engine: Engine, movement_id: str, *, tx_hash: str, reverted: bool, fee_paid: int
) -> Movement:
    """The movement's transaction is final at depth: post (or, reverted, void) the
    amount, release the fee hold and book the fee actually paid."""
    assert fee_paid >= 0
    with engine.begin() as conn:
        movement = _movement(_row(conn, movement_id, for_update=True))
        if movement.status.is_final:
            return movement
        hold_id, metadata = transfer_id(movement.id, "hold"), {"tx_hash": tx_hash}
        with _funded(movement):
            if reverted:
                void_id = transfer_id(movement.id, "void")
                void_pending(conn, VoidPendingRequest(void_id, hold_id, metadata=metadata))
            else:
                post_id = transfer_id(movement.id, "post")
                post_pending(conn, PostPendingRequest(post_id, hold_id, metadata=metadata))
            _book_fee(conn, movement, fee_paid, tx_hash)
        status = MovementStatus.FAILED if reverted else MovementStatus.COMPLETED
        return _finish(conn, movement_id, status, tx_hash=tx_hash, fee_paid=fee_paid)


def cancel_movement(engine: Engine, movement_id: str) -> Movement:
    """The movement never went out (refused before signing, or given up unmined): both
    holds are released and nothing is booked."""
    with engine.begin() as conn:
        movement = _movement(_row(conn, movement_id, for_update=True))
        if movement.status.is_final:
            return movement
        void_pending(
            conn,
            VoidPendingRequest(
                id=transfer_id(movement.id, "void"), pending_id=transfer_id(movement.id, "hold")
            ),
        )
        _release_fee_hold(conn, movement)
        return _finish(conn, movement_id, MovementStatus.CANCELLED, tx_hash=None, fee_paid=None)


def get_movement(bind: Bind, movement_id: str) -> Movement:
    with single_statement(bind) as conn:
        return _movement(_row(conn, movement_id))


def find_movement(bind: Bind, movement_id: str) -> Movement | None:
    with single_statement(bind) as conn:
        row = conn.execute(
            select(treasury_movements).where(treasury_movements.c.id == movement_id)
        ).one_or_none()
    return None if row is None else _movement(row)


def held_movements(
    bind: Bind, kind: MovementKind, chain: str, *, currency: Currency | None = None
) -> list[Movement]:
    """Movements of ``kind`` still in flight on ``chain`` (oldest first, bounded)."""
    query = (
        select(treasury_movements)
        .where(
            treasury_movements.c.kind == kind.value,
            treasury_movements.c.chain == chain,
            treasury_movements.c.status == MovementStatus.HELD.value,
        )
        .order_by(treasury_movements.c.created_at, treasury_movements.c.id)
        .limit(MAX_LISTED)
    )
    if currency is not None:
        query = query.where(treasury_movements.c.currency == currency.value)
    with single_statement(bind) as conn:
        return [_movement(row) for row in conn.execute(query)]


def cold_wallet_account(conn: Connection, cold_address: str, currency: Currency) -> int:
    """The ledger account of a cold address: owned by the address, so reconciliation
    compares it with the chain with no further work (``croupier.monitoring.wallets``)."""
    return open_account(conn, AccountSpec(AccountKind.COLD_WALLET, cold_address, currency)).id


# -- internals ----------------------------------------------------------------------------


def _accounts(conn: Connection, movement: Movement) -> tuple[int, int, int]:
    """(debited, credited, fee payer) accounts of the movement's legs."""
    currency, native = movement.currency, movement.native
    hot = system_account(conn, AccountKind.HOT_WALLET, currency).id
    in_flight = system_account(conn, AccountKind.DEPOSITS_IN_FLIGHT, currency).id
    if movement.kind is MovementKind.SWEEP:
        cold = cold_wallet_account(conn, movement.to_address, currency)
        return cold, hot, system_account(conn, AccountKind.HOT_WALLET, native).id
    if movement.kind is MovementKind.TOP_UP:
        return in_flight, hot, system_account(conn, AccountKind.HOT_WALLET, native).id
    if movement.kind is MovementKind.CONSOLIDATION:
        return hot, in_flight, system_account(conn, AccountKind.DEPOSITS_IN_FLIGHT, native).id
    cold = cold_wallet_account(conn, movement.from_address, currency)
    return hot, cold, cold_wallet_account(conn, movement.from_address, native)


def _transfer_type(kind: MovementKind) -> TransferType:
    return TransferType.REFILL if kind is MovementKind.REFILL else TransferType.SWEEP


def _book_fee(conn: Connection, movement: Movement, fee_paid: int, tx_hash: str) -> None:
    """Release the fee hold and book what the transaction really cost the sender."""
    _release_fee_hold(conn, movement)
    if fee_paid == 0:
        return
    _, _, fee_payer = _accounts(conn, movement)
    transfer(
        conn,
        TransferRequest(
            id=transfer_id(movement.id, "fee"),
            debit_account_id=system_account(conn, AccountKind.FEES, movement.native).id,
            credit_account_id=fee_payer,
            amount=fee_paid,
            currency=movement.native,
            type=TransferType.FEE,
            reference_id=movement.id,
            metadata={"tx_hash": tx_hash},
        ),
    )


def _release_fee_hold(conn: Connection, movement: Movement) -> None:
    if movement.fee_reserved:
        void_pending(
            conn,
            VoidPendingRequest(
                id=transfer_id(movement.id, "fee-void"),
                pending_id=transfer_id(movement.id, "fee-hold"),
            ),
        )


@contextmanager
def _funded(movement: Movement) -> Iterator[None]:
    """Coins that moved on chain must be booked: a short wallet is retried, not refused."""
    try:
        yield
    except InsufficientFunds as error:
        raise WalletLedgerShort(
            f"movement {movement.id} is final on chain but cannot be booked: {error}"
        ) from error


def _finish(
    conn: Connection,
    movement_id: str,
    status: MovementStatus,
    *,
    tx_hash: str | None,
    fee_paid: int | None,
) -> Movement:
    conn.execute(
        update(treasury_movements)
        .where(treasury_movements.c.id == movement_id)
        .values(status=status.value, tx_hash=tx_hash, fee_paid=fee_paid, updated_at=func.now())
    )
    return _movement(_row(conn, movement_id))


def _same(movement: Movement, new: NewMovement) -> bool:
    return (
        movement.kind is new.kind
        and movement.chain == new.chain
        and movement.currency is new.currency
        and movement.from_address == new.from_address
        and movement.to_address == new.to_address
        and movement.amount == new.amount
        and movement.fee_reserved == new.fee_reserved
        and movement.hd_index == new.hd_index
        and movement.send_id == new.send_id
    )


def _row(
    conn: Connection, movement_id: str, *, for_update: bool = False
) -> Row[tuple[object, ...]]:
    query = select(treasury_movements).where(treasury_movements.c.id == movement_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    assert row is not None, f"no movement {movement_id}"
    return row


def _movement(row: Row[tuple[object, ...]]) -> Movement:
    return Movement(
        id=row.id,
        kind=MovementKind(row.kind),
        chain=row.chain,
        currency=Currency(row.currency),
        from_address=row.from_address,
        to_address=row.to_address,
        hd_index=row.hd_index,
        amount=int(row.amount),
        fee_reserved=int(row.fee_reserved),
        send_id=row.send_id,
        status=MovementStatus(row.status),
        tx_hash=row.tx_hash,
        fee_paid=None if row.fee_paid is None else int(row.fee_paid),
        workflow_id=row.workflow_id,
    )
