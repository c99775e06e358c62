"""Deposits: what the scanner saw, how deep it is, and the one ledger credit.

A deposit's id is its business key (``deposit-eth-<tx>-<log>``), which is also its
workflow id and the id of its ledger transfer: crediting twice is refused by the
ledger's idempotency and, before that, by the row's status, which the database keeps
final once credited.

The credit moves ``deposits_in_flight -> player_cash``: ``deposits_in_flight`` is the
casino's asset "coins at player deposit addresses", until a sweep moves them on to the
hot wallet. A dust deposit is recorded (the player sees it) and never credited.

Crediting asks an ``admit`` check first (built by the activity layer from the player's
responsible-gambling and KYC limits; payments knows neither). A deposit it refuses is
``held``: confirmed, visible to the player with the reason, and still in deposits in
flight, so it is not the player's cash and cannot be bet. Crediting it later (the check
admits it, or compliance releases it) is the same single, idempotent ledger credit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, Row, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql import func

from croupier.core.errors import Conflict
from croupier.core.money import Currency, check_minor_units
from croupier.ledger.accounts import player_account, system_account
from croupier.ledger.connections import Bind, single_statement
from croupier.ledger.kinds import AccountKind, TransferType
from croupier.ledger.posting import transfer
from croupier.ledger.requests import TransferRequest
from croupier.payments.addresses import owner_of
from croupier.payments.errors import DepositNotFound, DepositNotHeld, UnknownDepositAddress
from croupier.payments.keys import deposit_id
from croupier.payments.states import DepositStatus
from croupier.payments.tables import deposits

MAX_PAGE_SIZE = 100
_OPEN = [DepositStatus.PENDING.value, DepositStatus.CONFIRMING.value]
_CREDITABLE = (DepositStatus.CONFIRMING, DepositStatus.HELD)


@dataclass(frozen=True, slots=True)
class Sighting:
    """A transfer into one of our addresses, as a scan found it."""

    chain: str
    tx_hash: str
    log_index: int
    block_number: int
    block_hash: str
    from_address: str
    to_address: str
    currency: Currency
    amount: int

    def __post_init__(self) -> None:
        check_minor_units(self.amount)

    @property
    def deposit_id(self) -> str:
        return deposit_id(self.chain, self.tx_hash, self.log_index)


@dataclass(frozen=True, slots=True)
class DepositRecord:
    id: str
    chain: str
    tx_hash: str
    log_index: int
    user_id: uuid.UUID
    address: str
    currency: Currency
    amount: int
    status: DepositStatus
    block_number: int | None
    confirmations: int
    confirmations_required: int
    created_at: datetime
    credited_at: datetime | None
    # Why it is (or was, before being credited) held: a stable code and the player's text.
    hold_code: str | None = None
    hold_reason: str | None = None


@dataclass(frozen=True, slots=True)
class DepositHold:
    """Why a confirmed deposit may not become the player's cash now."""

    code: str
    reason: str


# Run in the credit's transaction, under the player's deposit lock: None admits the
# deposit, a hold keeps it out of the player's cash.
DepositAdmission = Callable[[Connection, DepositRecord], DepositHold | None]


def admit_every_deposit(conn: Connection, deposit: DepositRecord) -> DepositHold | None:
    """The admission check that holds nothing (tests and tools that only move coins)."""
    return None


# Runs last in the transaction that credits a held deposit on a staff decision (the
# caller's audit row).
ReleaseHook = Callable[[Connection, DepositRecord], None]


def record_deposit(
    engine: Engine, sighting: Sighting, *, dust_minimum: int, confirmations_required: int
) -> DepositRecord:
    """Record a sighting (idempotent); returns the deposit as it now stands.

    A deposit orphaned earlier and seen again (its transaction was mined anew) goes back
    to pending: a new workflow run takes it from there.
    """
    assert confirmations_required >= 1
    status = DepositStatus.DUST if sighting.amount < dust_minimum else DepositStatus.PENDING
    with engine.begin() as conn:
        user_id = owner_of(conn, sighting.chain, sighting.to_address)
        if user_id is None:
            raise UnknownDepositAddress(
                f"{sighting.to_address} is not a {sighting.chain} deposit address of ours"
            )
        conn.execute(
            pg_insert(deposits)
            .values(
                id=sighting.deposit_id,
                chain=sighting.chain,
                tx_hash=sighting.tx_hash,
                log_index=sighting.log_index,
                user_id=user_id,
                address=sighting.to_address,
                from_address=sighting.from_address,
                currency=sighting.currency.value,
                amount=sighting.amount,
                status=status.value,
                block_number=sighting.block_number,
                block_hash=sighting.block_hash,
                confirmations=0,
                confirmations_required=confirmations_required,
            )
            .on_conflict_do_nothing()
        )
        conn.execute(
            update(deposits)
            .where(
                deposits.c.id == sighting.deposit_id,
                deposits.c.status == DepositStatus.ORPHANED.value,
            )
            .values(status=DepositStatus.PENDING.value, updated_at=func.now())
        )
        return _record(_row(conn, sighting.deposit_id))


def deposit_statuses(bind: Bind, ids: list[str]) -> dict[str, DepositStatus]:
    """The status of each known deposit among ``ids``."""
    if not ids:
        return {}
    with single_statement(bind) as conn:
        rows = conn.execute(
            select(deposits.c.id, deposits.c.status).where(deposits.c.id.in_(ids))
        ).all()
    return {row.id: DepositStatus(row.status) for row in rows}


def observe_included(
    engine: Engine, deposit_id: str, *, block_number: int, block_hash: str, confirmations: int
) -> DepositRecord:
    """The transfer is in canonical block ``block_number``, ``confirmations`` deep."""
    assert confirmations >= 1
    return _observe(
        engine,
        deposit_id,
        status=DepositStatus.CONFIRMING,
        block_number=block_number,
        block_hash=block_hash,
        confirmations=confirmations,
    )


def observe_absent(engine: Engine, deposit_id: str) -> DepositRecord:
    """The transfer is in no canonical block (a reorg removed it, or it moved)."""
    return _observe(
        engine,
        deposit_id,
        status=DepositStatus.PENDING,
        block_number=None,
        block_hash=None,
        confirmations=0,
    )


def credit_deposit(engine: Engine, deposit_id: str, admit: DepositAdmission) -> DepositRecord:
    """Credit the player once if ``admit`` lets it in, else hold it (or keep it held).

    The ledger transfer and the status change commit together. A player's credits are
    serialised, so two deposits checked at once cannot both fit under one limit.
    """
    with engine.begin() as conn:
        row = _creditable(conn, deposit_id)
        if DepositStatus(row.status) is DepositStatus.CREDITED:
            return _record(row)
        _lock_player(conn, row.user_id)
        hold = admit(conn, _record(row))
        if hold is not None:
            conn.execute(
                update(deposits)
                .where(deposits.c.id == deposit_id)
                .values(
                    status=DepositStatus.HELD.value,
                    hold_code=hold.code,
                    hold_reason=hold.reason,
                    updated_at=func.now(),
                )
            )
            return _record(_row(conn, deposit_id))
        return _credit(conn, row)


def release_held_deposit(
    engine: Engine, deposit_id: str, on_released: ReleaseHook
) -> DepositRecord:
    """Credit a held deposit on a compliance decision, whatever the limits say;
    ``on_released`` runs in the same transaction, only when this call credits it."""
    with engine.begin() as conn:
        row = _row(conn, deposit_id, for_update=True)
        status = DepositStatus(row.status)
        if status is DepositStatus.CREDITED:
            return _record(row)
        if status is not DepositStatus.HELD:
            raise DepositNotHeld(
                f"deposit {deposit_id} is {status.value}; only a held one is released"
            )
        credited = _credit(conn, row)
        on_released(conn, credited)
        return credited


def deposited_since(
    conn: Connection, user_id: uuid.UUID, currency: Currency, since: datetime
) -> int:
    """What the player's credited deposits of ``currency`` added to their cash since
    ``since`` (a held deposit counts from when it was credited)."""
    total = conn.execute(
        select(func.coalesce(func.sum(deposits.c.amount), 0)).where(
            deposits.c.user_id == user_id,
            deposits.c.currency == currency.value,
            deposits.c.status == DepositStatus.CREDITED.value,
            deposits.c.credited_at > since,
        )
    ).scalar_one()
    return int(total)


def _creditable(conn: Connection, deposit_id: str) -> Row[tuple[object, ...]]:
    row = _row(conn, deposit_id, for_update=True)
    status = DepositStatus(row.status)
    if status is not DepositStatus.CREDITED and status not in _CREDITABLE:
        raise Conflict(f"deposit {deposit_id} is {status.value}; only a confirmed one is credited")
    return row


def _lock_player(conn: Connection, user_id: uuid.UUID) -> None:
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"deposits:{user_id}"},
    )


def _credit(conn: Connection, row: Row[tuple[object, ...]]) -> DepositRecord:
    """The one ledger credit, keyed by the deposit id, and the row marked credited."""
    deposit_id = str(row.id)
    currency = Currency(row.currency)
    in_flight = system_account(conn, AccountKind.DEPOSITS_IN_FLIGHT, currency)
    cash = player_account(conn, str(row.user_id), AccountKind.PLAYER_CASH, currency)
    transfer(
        conn,
        TransferRequest(
            id=deposit_id,
            debit_account_id=in_flight.id,
            credit_account_id=cash.id,
            amount=int(row.amount),
            currency=currency,
            type=TransferType.DEPOSIT,
            reference_id=deposit_id,
            metadata={"chain": row.chain, "tx_hash": row.tx_hash, "block": row.block_number},
        ),
    )
    conn.execute(
        update(deposits)
        .where(deposits.c.id == deposit_id)
        .values(
            status=DepositStatus.CREDITED.value,
            credited_at=func.now(),
            updated_at=func.now(),
        )
    )
    return _record(_row(conn, deposit_id))


def orphan_deposit(engine: Engine, deposit_id: str) -> DepositRecord:
    """Give up on a deposit a reorg removed; it is never credited (unless seen again)."""
    with engine.begin() as conn:
        conn.execute(
            update(deposits)
            .where(deposits.c.id == deposit_id, deposits.c.status.in_(_OPEN))
            .values(status=DepositStatus.ORPHANED.value, updated_at=func.now())
        )
        return _record(_row(conn, deposit_id))


def get_deposit(bind: Bind, deposit_id: str) -> DepositRecord:
    with single_statement(bind) as conn:
        return _record(_row(conn, deposit_id))


def list_deposits(bind: Bind, user_id: uuid.UUID, *, limit: int) -> list[DepositRecord]:
    """A player's deposits, newest first."""
    assert 1 <= limit <= MAX_PAGE_SIZE, f"limit {limit} outside 1..{MAX_PAGE_SIZE}"
    with single_statement(bind) as conn:
        rows = conn.execute(
            select(deposits)
            .where(deposits.c.user_id == user_id)
            .order_by(deposits.c.created_at.desc(), deposits.c.id)
            .limit(limit)
        ).all()
    return [_record(row) for row in rows]


def held_deposits(
    bind: Bind, *, user_id: uuid.UUID | None = None, limit: int
) -> list[DepositRecord]:
    """Held deposits of every player (or of one), oldest first: compliance's queue,
    worked from the longest waiting (a partial index serves it)."""
    assert 1 <= limit <= MAX_PAGE_SIZE, f"limit {limit} outside 1..{MAX_PAGE_SIZE}"
    query = select(deposits).where(deposits.c.status == DepositStatus.HELD.value)
    if user_id is not None:
        query = query.where(deposits.c.user_id == user_id)
    with single_statement(bind) as conn:
        rows = conn.execute(query.order_by(deposits.c.created_at, deposits.c.id).limit(limit)).all()
    return [_record(row) for row in rows]


def _observe(
    engine: Engine,
    deposit_id: str,
    *,
    status: DepositStatus,
    block_number: int | None,
    block_hash: str | None,
    confirmations: int,
) -> DepositRecord:
    with engine.begin() as conn:
        conn.execute(
            update(deposits)
            .where(
                deposits.c.id == deposit_id,
                deposits.c.status.in_(_OPEN),
            )
            .values(
                status=status.value,
                block_number=block_number,
                block_hash=block_hash,
                confirmations=confirmations,
                updated_at=func.now(),
            )
        )
        return _record(_row(conn, deposit_id))


def _row(conn: Connection, deposit_id: str, *, for_update: bool = False) -> Row[tuple[object, ...]]:
    query = select(deposits).where(deposits.c.id == deposit_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise DepositNotFound(f"no deposit {deposit_id}")
    return row


def _record(row: Row[tuple[object, ...]]) -> DepositRecord:
    return DepositRecord(
        id=row.id,
        chain=row.chain,
        tx_hash=row.tx_hash,
        log_index=row.log_index,
        user_id=row.user_id,
        address=row.address,
        currency=Currency(row.currency),
        amount=int(row.amount),
        status=DepositStatus(row.status),
        block_number=row.block_number,
        confirmations=row.confirmations,
        confirmations_required=row.confirmations_required,
        created_at=row.created_at,
        credited_at=row.credited_at,
        hold_code=row.hold_code,
        hold_reason=row.hold_reason,
    )
