"""The hot wallet's sends: one nonce per withdrawal, for life, and every transaction signed.

This is what makes "never two different transactions paying the same withdrawal" hold
across crashes, retries and restarts of the sender: a withdrawal's nonce is claimed once
(``claim_nonce`` is idempotent per withdrawal, and a nonce belongs to one withdrawal);
every transaction signed for it, the first and each fee replacement, uses that nonce,
so the chain can include at most one of them. Each signed transaction is stored before
it is broadcast, so a crash after the broadcast loses nothing: the sender finds it here
and watches it (or re-broadcasts the same bytes if the node dropped it).

Bitcoin sends share the ``hot_wallet_sends`` row (there ``nonce`` is the send's
ordinal per hot address: it orders and restores sends, the chain knows nothing of it);
their signed transactions and the coins they spend are kept by
``croupier.payments.btc_sends``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Row, exists, func, select, text, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.ethereum.tx import Fees, SignedTx, UnsignedTx
from croupier.ledger.connections import Bind, single_statement
from croupier.payments.tables import (
    btc_hot_wallet_transactions,
    hot_wallet_sends,
    hot_wallet_transactions,
    withdrawals,
)

IN_FLIGHT = "in_flight"
CONFIRMED = "confirmed"
REVERTED = "reverted"
# Replacements per send; past this something other than fees is wrong.
MAX_ATTEMPTS = 100


@dataclass(frozen=True, slots=True)
class SendRecord:
    withdrawal_id: uuid.UUID
    chain: str
    sender: str
    nonce: int
    status: str
    final_tx_hash: str | None
    fee_paid: int | None
    currency: str | None
    # The workflow told about the send (None: the withdrawal's own).
    reply_to: str | None


@dataclass(frozen=True, slots=True)
class StoredTx:
    """A transaction signed for a send: enough to re-broadcast it or to replace it."""

    attempt: int
    tx: UnsignedTx
    raw: bytes
    tx_hash: str


def claim_nonce(
    engine: Engine,
    withdrawal_id: uuid.UUID,
    *,
    chain: str,
    sender: str,
    at_least: int,
    currency: str,
    reply_to: str | None = None,
) -> SendRecord:
    """The send's nonce: the one it already has, or the next free one (at least
    ``at_least``, the chain's next nonce) claimed now. ``withdrawal_id`` is the send's
    id: a withdrawal's, or a treasury movement's (which names its ``reply_to``)."""
    assert at_least >= 0
    with engine.begin() as conn:
        existing = _send_row(conn, withdrawal_id)
        if existing is not None:
            return _send(existing)
        nonce = max(at_least, _next_free_nonce(conn, chain, sender))
        conn.execute(
            pg_insert(hot_wallet_sends).values(
                withdrawal_id=withdrawal_id,
                chain=chain,
                sender=sender,
                nonce=nonce,
                status=IN_FLIGHT,
                currency=currency,
                reply_to=reply_to,
            )
        )
        row = _send_row(conn, withdrawal_id)
        assert row is not None
        return _send(row)


def move_to_nonce(engine: Engine, withdrawal_id: uuid.UUID, *, at_least: int) -> SendRecord:
    """Give a send that never signed anything a new nonce (its own was used by a
    transaction Croupier did not sign). Refused once a transaction exists for it."""
    with engine.begin() as conn:
        send = _send_row(conn, withdrawal_id, for_update=True)
        assert send is not None, f"withdrawal {withdrawal_id} has no send"
        signed = conn.execute(
            select(func.count()).where(hot_wallet_transactions.c.withdrawal_id == withdrawal_id)
        ).scalar_one()
        assert signed == 0, "a send with a signed transaction keeps its nonce for life"
        nonce = max(at_least, _next_free_nonce(conn, send.chain, send.sender))
        conn.execute(
            update(hot_wallet_sends)
            .where(hot_wallet_sends.c.withdrawal_id == withdrawal_id)
            .values(nonce=nonce, updated_at=func.now())
        )
        row = _send_row(conn, withdrawal_id)
        assert row is not None
        return _send(row)


def next_nonce_after_sends(bind: Bind, *, chain: str, sender: str) -> int:
    """One past the highest nonce ever claimed for ``sender`` (0 if none)."""
    with single_statement(bind) as conn:
        return _highest_nonce(conn, chain, sender) + 1


def record_attempt(engine: Engine, withdrawal_id: uuid.UUID, signed: SignedTx) -> StoredTx:
    """Store a signed transaction for the send before it is broadcast (idempotent)."""
    with engine.begin() as conn:
        send = _send_row(conn, withdrawal_id, for_update=True)
        assert send is not None, f"withdrawal {withdrawal_id} has no send to sign for"
        assert signed.tx.nonce == send.nonce, "every transaction of a send uses its nonce"
        known = _tx_row(conn, signed.tx_hash)
        if known is None:
            attempts = conn.execute(
                select(func.count()).where(hot_wallet_transactions.c.withdrawal_id == withdrawal_id)
            ).scalar_one()
            assert attempts < MAX_ATTEMPTS, (
                f"withdrawal {withdrawal_id} was signed {attempts} times"
            )
            conn.execute(
                pg_insert(hot_wallet_transactions).values(
                    tx_hash=signed.tx_hash,
                    withdrawal_id=withdrawal_id,
                    attempt=attempts + 1,
                    chain_id=signed.tx.chain_id,
                    to_address=signed.tx.to,
                    value_wei=signed.tx.value_wei,
                    data=signed.tx.data,
                    gas_limit=signed.tx.gas_limit,
                    max_fee_per_gas=signed.tx.fees.max_fee_per_gas,
                    max_priority_fee_per_gas=signed.tx.fees.max_priority_fee_per_gas,
                    raw=signed.raw,
                )
            )
            known = _tx_row(conn, signed.tx_hash)
            assert known is not None
        return _stored(known, send)


def attempts(bind: Bind, withdrawal_id: uuid.UUID) -> list[StoredTx]:
    """Every transaction signed for the withdrawal, oldest first."""
    with single_statement(bind) as conn:
        send = _send_row(conn, withdrawal_id)
        if send is None:
            return []
        rows = conn.execute(
            select(hot_wallet_transactions)
            .where(hot_wallet_transactions.c.withdrawal_id == withdrawal_id)
            .order_by(hot_wallet_transactions.c.attempt)
        ).all()
    return [_stored(row, send) for row in rows]


def find_send(bind: Bind, withdrawal_id: uuid.UUID) -> SendRecord | None:
    with single_statement(bind) as conn:
        row = _send_row(conn, withdrawal_id)
    return None if row is None else _send(row)


def unfinished_sends(bind: Bind, *, chain: str, sender: str, limit: int) -> list[SendRecord]:
    """Sends still in flight, lowest nonce first (what a restarted sender picks up)."""
    with single_statement(bind) as conn:
        rows = conn.execute(
            select(hot_wallet_sends)
            .where(
                hot_wallet_sends.c.chain == chain,
                hot_wallet_sends.c.sender == sender,
                hot_wallet_sends.c.status == IN_FLIGHT,
            )
            .order_by(hot_wallet_sends.c.nonce)
            .limit(limit)
        ).all()
    return [_send(row) for row in rows]


def house_transaction_hashes(bind: Bind, tx_hashes: Collection[str]) -> set[str]:
    """Which of ``tx_hashes`` the hot wallet signed for a send that is no withdrawal: the
    casino moving its own coins (a gas top-up of a deposit address). The deposit scanner
    must not credit those to the address's player."""
    if not tx_hashes:
        return set()
    wanted = sorted(set(tx_hashes))
    not_a_withdrawal = ~exists().where(withdrawals.c.id == hot_wallet_sends.c.withdrawal_id)
    ethereum = (
        select(hot_wallet_transactions.c.tx_hash)
        .join(
            hot_wallet_sends,
            hot_wallet_sends.c.withdrawal_id == hot_wallet_transactions.c.withdrawal_id,
        )
        .where(hot_wallet_transactions.c.tx_hash.in_(wanted), not_a_withdrawal)
    )
    bitcoin = (
        select(btc_hot_wallet_transactions.c.txid)
        .join(
            hot_wallet_sends,
            hot_wallet_sends.c.withdrawal_id == btc_hot_wallet_transactions.c.withdrawal_id,
        )
        .where(btc_hot_wallet_transactions.c.txid.in_(wanted), not_a_withdrawal)
    )
    with single_statement(bind) as conn:
        return set(conn.execute(union_all(ethereum, bitcoin)).scalars())


def finish_send(
    engine: Engine, withdrawal_id: uuid.UUID, *, tx_hash: str, reverted: bool, fee_paid: int
) -> SendRecord:
    """The send's transaction is final on chain (included, or included and reverted)."""
    with engine.begin() as conn:
        conn.execute(
            update(hot_wallet_sends)
            .where(
                hot_wallet_sends.c.withdrawal_id == withdrawal_id,
                hot_wallet_sends.c.status == IN_FLIGHT,
            )
            .values(
                status=REVERTED if reverted else CONFIRMED,
                final_tx_hash=tx_hash,
                fee_paid=fee_paid,
                updated_at=func.now(),
            )
        )
        row = _send_row(conn, withdrawal_id)
    assert row is not None and row.final_tx_hash == tx_hash, (
        f"withdrawal {withdrawal_id} was already finished by another transaction"
    )
    return _send(row)


def lock_send(conn: Connection, withdrawal_id: uuid.UUID) -> SendRecord:
    """The send, locked for the rest of ``conn``'s transaction (one signer at a time)."""
    row = _send_row(conn, withdrawal_id, for_update=True)
    assert row is not None, f"withdrawal {withdrawal_id} has no send to sign for"
    return _send(row)


def _next_free_nonce(conn: Connection, chain: str, sender: str) -> int:
    """One past the highest claimed nonce, with the sender locked for this transaction
    so two claims cannot take the same one."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"hot-wallet:{chain}:{sender}"},
    )
    return _highest_nonce(conn, chain, sender) + 1


def _highest_nonce(conn: Connection, chain: str, sender: str) -> int:
    """The highest nonce claimed for ``sender``, -1 if none."""
    highest = conn.execute(
        select(func.max(hot_wallet_sends.c.nonce)).where(
            hot_wallet_sends.c.chain == chain, hot_wallet_sends.c.sender == sender
        )
    ).scalar_one()
    return -1 if highest is None else int(highest)


def _send_row(
    conn: Connection, withdrawal_id: uuid.UUID, *, for_update: bool = False
) -> Row[tuple[object, ...]] | None:
    query = select(hot_wallet_sends).where(hot_wallet_sends.c.withdrawal_id == withdrawal_id)
    if for_update:
        query = query.with_for_update()
    return conn.execute(query).one_or_none()


def _tx_row(conn: Connection, tx_hash: str) -> Row[tuple[object, ...]] | None:
    return conn.execute(
        select(hot_wallet_transactions).where(hot_wallet_transactions.c.tx_hash == tx_hash)
    ).one_or_none()


def _send(row: Row[tuple[object, ...]]) -> SendRecord:
    return SendRecord(
        withdrawal_id=row.withdrawal_id,
        chain=row.chain,
        sender=row.sender,
        nonce=int(row.nonce),
        status=row.status,
        final_tx_hash=row.final_tx_hash,
        fee_paid=None if row.fee_paid is None else int(row.fee_paid),
        currency=row.currency,
        reply_to=row.reply_to,
    )


def _stored(row: Row[tuple[object, ...]], send: Row[tuple[object, ...]]) -> StoredTx:
    tx = UnsignedTx(
        chain_id=int(row.chain_id),
        sender=parse_address(send.sender),
        nonce=int(send.nonce),
        to=None if row.to_address is None else parse_address(row.to_address),
        value_wei=int(row.value_wei),
        data=bytes(row.data),
        gas_limit=int(row.gas_limit),
        fees=Fees(
            max_fee_per_gas=int(row.max_fee_per_gas),
            max_priority_fee_per_gas=int(row.max_priority_fee_per_gas),
        ),
    )
    return StoredTx(attempt=int(row.attempt), tx=tx, raw=bytes(row.raw), tx_hash=row.tx_hash)
