"""Refills from cold to hot: the request, its two approvals, the transaction that pays it.

Cold keys are never on these machines, so a refill is a request to people: two distinct
treasury staff approve it, someone signs the transfer offline and broadcasts it, and the
transaction hash is submitted here. It is accepted only if it is exactly the approved
transfer (from the cold address, to the hot address, the approved amount); it is then
held in the ledger (``hot_wallet <- cold_wallet``, and the most its fee can be) until it
is final at depth. Ethereum's check is here, Bitcoin's in ``croupier.sweeps.btc_refills``
(there the fee is exact, not a bound). Every staff action is written to the compliance
audit log in the same transaction as its effect. At most one refill per currency is open at a time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Connection, Engine, Row, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.ethereum.tx import encode_erc20_transfer
from croupier.compliance.audit import record_staff_action
from croupier.core.errors import InsufficientFunds
from croupier.core.money import Currency
from croupier.ledger.connections import Bind, single_statement
from croupier.sweeps.errors import (
    ColdWalletLedgerShort,
    RefillAlreadyOpen,
    RefillNotAwaitingApproval,
    RefillNotAwaitingTransaction,
    RefillNotFound,
    RefillTransactionMismatch,
)
from croupier.sweeps.keys import movement_id
from croupier.sweeps.movements import MovementKind, NewMovement, open_movement
from croupier.sweeps.tables import refill_approvals, refill_requests

REQUIRED_APPROVALS = 2
SYSTEM_REQUESTER = "system:sweep"
MAX_REASON_CHARS = 500
# How each chain writes a transaction hash (either case; kept lowercase).
_TX_HASH_FORMATS = {
    "ethereum": re.compile(r"^0x[0-9a-fA-F]{64}$"),
    "bitcoin": re.compile(r"^[0-9a-fA-F]{64}$"),
}
TX_HASH_DESCRIPTIONS = {"ethereum": "0x and 64 hex digits", "bitcoin": "64 hex digits (no 0x)"}


def is_tx_hash(chain: str, text: str) -> bool:
    """Whether ``text`` is written as ``chain`` writes a transaction hash."""
    found = _TX_HASH_FORMATS.get(chain)
    return found is not None and found.match(text) is not None


class RefillStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_TRANSACTION = "awaiting_transaction"  # approved twice; waiting for the tx hash
    CONFIRMING = "confirming"  # an accepted transaction, waiting for its confirmations
    COMPLETED = "completed"  # final: confirmed on chain and posted
    EXPIRED = "expired"  # final: not completed in time (holds released)
    REFUSED = "refused"  # workflow only, final: another refill of the currency is open

    @property
    def is_open(self) -> bool:
        return self in _OPEN


_OPEN = frozenset(
    {RefillStatus.AWAITING_APPROVAL, RefillStatus.AWAITING_TRANSACTION, RefillStatus.CONFIRMING}
)


@dataclass(frozen=True, slots=True)
class RefillApproval:
    staff_id: uuid.UUID
    reason: str
    approved_at: datetime


@dataclass(frozen=True, slots=True)
class RefillRecord:
    id: uuid.UUID
    chain: str
    currency: Currency
    amount: int
    cold_address: str
    hot_address: str
    status: RefillStatus
    requested_by: str
    reason: str
    tx_hash: str | None
    expires_at: datetime
    created_at: datetime
    approvals: tuple[RefillApproval, ...]

    def approved_by(self, staff_id: uuid.UUID) -> bool:
        return any(approval.staff_id == staff_id for approval in self.approvals)


@dataclass(frozen=True, slots=True)
class NewRefill:
    id: uuid.UUID
    chain: str
    currency: Currency
    amount: int
    cold_address: str
    hot_address: str
    requested_by: str
    reason: str
    expires_at: datetime

    def __post_init__(self) -> None:
        assert self.amount > 0 and Currency(self.currency).chain == self.chain
        assert 1 <= len(self.reason) <= MAX_REASON_CHARS


@dataclass(frozen=True, slots=True)
class RefillTransaction:
    """An Ethereum transaction as the node reports it, in the fields a refill is checked against."""

    tx_hash: str
    chain_id: int
    sender: str
    to: str | None
    value_wei: int
    data: bytes
    gas_limit: int
    max_fee_per_gas: int

    @property
    def worst_fee(self) -> int:
        return self.gas_limit * self.max_fee_per_gas


class SubmittedTransaction(Protocol):
    """A checked refill transaction of any chain, as the ledger holds it."""

    @property
    def tx_hash(self) -> str: ...

    @property
    def worst_fee(self) -> int:
        """The most it can cost the cold wallet in fees (held until it is final)."""
        ...


def open_refill(engine: Engine, new: NewRefill) -> RefillRecord:
    """Record the request (idempotent on its id); refused while another of the same
    currency is open. A staff member's request is written to the audit log."""
    with engine.begin() as conn:
        inserted = conn.execute(
            pg_insert(refill_requests)
            .values(
                id=new.id,
                chain=new.chain,
                currency=new.currency.value,
                amount=new.amount,
                cold_address=new.cold_address,
                hot_address=new.hot_address,
                status=RefillStatus.AWAITING_APPROVAL.value,
                requested_by=new.requested_by,
                reason=new.reason,
                expires_at=new.expires_at,
            )
            .on_conflict_do_nothing()  # our id again, or another open refill (partial index)
            .returning(refill_requests.c.id)
        ).first()
        record = _find(conn, new.id)
        if record is None:
            other = _open_refill_of(conn, new.chain, new.currency)
            raise RefillAlreadyOpen(
                f"refill {other} of {new.currency} is still open; it must finish or expire first"
            )
        if inserted is not None and new.requested_by != SYSTEM_REQUESTER:
            _audit(conn, new.requested_by, "refill.request", record, {"reason": new.reason})
        return record


def record_approval(
    engine: Engine, refill_id: uuid.UUID, staff_id: uuid.UUID, reason: str
) -> RefillRecord:
    """Count one approval; the second one, by someone else, makes the refill approved.
    The same person approving again changes nothing (their approval counts once)."""
    with engine.begin() as conn:
        record = _get(conn, refill_id, for_update=True)
        if record.approved_by(staff_id):
            return record
        if record.status is not RefillStatus.AWAITING_APPROVAL:
            raise RefillNotAwaitingApproval(f"refill {refill_id} is {record.status.value}")
        conn.execute(
            pg_insert(refill_approvals).values(
                refill_id=refill_id, staff_id=staff_id, reason=reason[:MAX_REASON_CHARS]
            )
        )
        approvals = len(record.approvals) + 1
        if approvals >= REQUIRED_APPROVALS:
            _set_status(conn, refill_id, RefillStatus.AWAITING_TRANSACTION)
        record = _get(conn, refill_id)
        _audit(
            conn,
            str(staff_id),
            "refill.approve",
            record,
            {"reason": reason[:MAX_REASON_CHARS], "approval": approvals},
        )
        return record


def check_refill_transaction(
    record: RefillRecord, tx: RefillTransaction, *, chain_id: int, token: str | None
) -> None:
    """Refuse a transaction that is not exactly the approved transfer."""
    problems = []
    if tx.chain_id != chain_id:
        problems.append(f"chain id {tx.chain_id}, not {chain_id}")
    if parse_address(tx.sender) != parse_address(record.cold_address):
        problems.append(f"sent by {tx.sender}, not the cold address {record.cold_address}")
    if token is None:
        expected_to, expected_value, expected_data = record.hot_address, record.amount, b""
    else:
        expected_to, expected_value = token, 0
        expected_data = encode_erc20_transfer(record.hot_address, record.amount)
    if tx.to is None or parse_address(tx.to) != parse_address(expected_to):
        problems.append(f"sent to {tx.to}, not {expected_to}")
    if tx.value_wei != expected_value or tx.data != expected_data:
        problems.append(
            f"it does not transfer exactly {record.amount} {record.currency} to the hot "
            f"wallet {record.hot_address}"
        )
    if problems:
        raise RefillTransactionMismatch(
            f"transaction {tx.tx_hash} is not refill {record.id}: " + "; ".join(problems)
        )


def accept_transaction(
    engine: Engine,
    refill_id: uuid.UUID,
    staff_id: uuid.UUID,
    tx: SubmittedTransaction,
    *,
    workflow_id: str,
) -> RefillRecord:
    """Take a checked transaction as the refill: hold it in the ledger (the cold wallet
    must have the coins booked) and wait for its confirmations. Idempotent on the hash."""
    with engine.begin() as conn:
        record = _get(conn, refill_id, for_update=True)
        if record.status is RefillStatus.CONFIRMING and record.tx_hash == tx.tx_hash:
            return record
        if record.status is not RefillStatus.AWAITING_TRANSACTION:
            raise RefillNotAwaitingTransaction(f"refill {refill_id} is {record.status.value}")
        try:
            open_movement(conn, refill_movement(record, tx, workflow_id))
        except InsufficientFunds as error:
            raise ColdWalletLedgerShort(
                f"the cold wallet's ledger balance cannot cover refill {refill_id}: {error}; "
                "book its opening balance (cold_wallet <- house) first"
            ) from error
        _set_status(conn, refill_id, RefillStatus.CONFIRMING, tx_hash=tx.tx_hash)
        record = _get(conn, refill_id)
        _audit(conn, str(staff_id), "refill.submit_transaction", record, {"tx_hash": tx.tx_hash})
        return record


def refill_movement(
    record: RefillRecord, tx: SubmittedTransaction, workflow_id: str
) -> NewMovement:
    """The movement a refill's transaction is booked as (its id names the hash)."""
    return NewMovement(
        id=movement_id(MovementKind.REFILL.value, record.chain, tx.tx_hash),
        kind=MovementKind.REFILL,
        chain=record.chain,
        currency=record.currency,
        from_address=record.cold_address,
        to_address=record.hot_address,
        amount=record.amount,
        fee_reserved=tx.worst_fee,
        workflow_id=workflow_id,
    )


def set_refill_status(
    engine: Engine, refill_id: uuid.UUID, status: RefillStatus, *, expected: RefillStatus
) -> RefillRecord:
    """Move the refill on (completed, expired, or back to awaiting its transaction after
    one reverted); a repeat of the same move is a no-op."""
    with engine.begin() as conn:
        record = _get(conn, refill_id, for_update=True)
        if record.status is status:
            return record
        assert record.status is expected, f"refill {refill_id} is {record.status.value}"
        _set_status(conn, refill_id, status)
        return _get(conn, refill_id)


def get_refill(bind: Bind, refill_id: uuid.UUID) -> RefillRecord:
    with single_statement(bind) as conn:
        return _get(conn, refill_id)


def open_refill_id(bind: Bind, chain: str, currency: Currency) -> uuid.UUID | None:
    with single_statement(bind) as conn:
        return _open_refill_of(conn, chain, currency)


# -- internals ----------------------------------------------------------------------------


def _audit(
    conn: Connection,
    actor: str,
    action: str,
    record: RefillRecord,
    details: dict[str, str | int],
) -> None:
    record_staff_action(
        conn,
        actor,
        action,
        f"refill:{record.id}",
        {
            "currency": record.currency.value,
            "amount": str(record.amount),
            "status": record.status.value,
            **details,
        },
    )


def _set_status(
    conn: Connection, refill_id: uuid.UUID, status: RefillStatus, *, tx_hash: str | None = None
) -> None:
    values: dict[str, object] = {"status": status.value, "updated_at": func.now()}
    if tx_hash is not None:
        values["tx_hash"] = tx_hash
    conn.execute(update(refill_requests).where(refill_requests.c.id == refill_id).values(values))


def _open_refill_of(conn: Connection, chain: str, currency: Currency) -> uuid.UUID | None:
    found: uuid.UUID | None = conn.execute(
        select(refill_requests.c.id).where(
            refill_requests.c.chain == chain,
            refill_requests.c.currency == currency.value,
            refill_requests.c.status.in_([status.value for status in _OPEN]),
        )
    ).scalar_one_or_none()
    return found


def _get(conn: Connection, refill_id: uuid.UUID, *, for_update: bool = False) -> RefillRecord:
    record = _find(conn, refill_id, for_update=for_update)
    if record is None:
        raise RefillNotFound(f"no refill {refill_id}")
    return record


def _find(
    conn: Connection, refill_id: uuid.UUID, *, for_update: bool = False
) -> RefillRecord | None:
    query = select(refill_requests).where(refill_requests.c.id == refill_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        return None
    approvals = conn.execute(
        select(refill_approvals)
        .where(refill_approvals.c.refill_id == refill_id)
        .order_by(refill_approvals.c.approved_at, refill_approvals.c.staff_id)
    ).all()
    return _record(row, approvals)


def _record(
    row: Row[tuple[object, ...]], approvals: Sequence[Row[tuple[object, ...]]]
) -> RefillRecord:
    return RefillRecord(
        id=row.id,
        chain=row.chain,
        currency=Currency(row.currency),
        amount=int(row.amount),
        cold_address=row.cold_address,
        hot_address=row.hot_address,
        status=RefillStatus(row.status),
        requested_by=row.requested_by,
        reason=row.reason,
        tx_hash=row.tx_hash,
        expires_at=row.expires_at,
        created_at=row.created_at,
        approvals=tuple(
            RefillApproval(staff_id=a.staff_id, reason=a.reason, approved_at=a.approved_at)
            for a in approvals
        ),
    )
