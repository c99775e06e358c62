"""Transactions signed for deposit addresses, stored before they are broadcast.

A consolidation is one movement from one deposit address, and the address has no other
sender (one movement in flight per address, guarded by the database), so its nonce is
the chain's next one when the first transaction is signed. Every later transaction for
the movement (a fee replacement) reuses that nonce, so at most one can be mined; each is
stored first, so a crash after a broadcast loses nothing: the watch finds it here and
broadcasts the same bytes again if the node dropped it.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.chains.ethereum.addresses import parse_address
from croupier.chains.ethereum.tx import Fees, SignedTx, UnsignedTx
from croupier.ledger.connections import Bind, single_statement
from croupier.payments.sends import StoredTx
from croupier.sweeps.tables import treasury_transactions

# Replacements per movement; past this something other than fees is wrong.
MAX_ATTEMPTS = 100


def record_attempt(engine: Engine, movement_id: str, signed: SignedTx) -> StoredTx:
    """Store a transaction signed for the movement (idempotent on its hash); every one
    after the first must reuse the first one's nonce."""
    with engine.begin() as conn:
        conn.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(movement_id, 0)))
        ).scalar_one()
        stored = attempts(conn, movement_id)
        known = [tx for tx in stored if tx.tx_hash == signed.tx_hash]
        if known:
            return known[0]
        assert len(stored) < MAX_ATTEMPTS, f"movement {movement_id} was signed {len(stored)} times"
        assert not stored or stored[0].tx.nonce == signed.tx.nonce, "one nonce per movement"
        assert signed.tx.to is not None
        conn.execute(
            pg_insert(treasury_transactions).values(
                tx_hash=signed.tx_hash,
                movement_id=movement_id,
                attempt=len(stored) + 1,
                chain_id=signed.tx.chain_id,
                sender=signed.tx.sender,
                nonce=signed.tx.nonce,
                to_address=signed.tx.to,
                value_wei=signed.tx.value_wei,
                data=signed.tx.data,
                gas_limit=signed.tx.gas_limit,
                max_fee_per_gas=signed.tx.fees.max_fee_per_gas,
                max_priority_fee_per_gas=signed.tx.fees.max_priority_fee_per_gas,
                raw=signed.raw,
            )
        )
        return attempts(conn, movement_id)[-1]


def attempts(bind: Bind, movement_id: str) -> list[StoredTx]:
    """Every transaction signed for the movement, oldest first."""
    with single_statement(bind) as conn:
        rows = conn.execute(
            select(treasury_transactions)
            .where(treasury_transactions.c.movement_id == movement_id)
            .order_by(treasury_transactions.c.attempt)
        ).all()
    return [
        StoredTx(
            attempt=int(row.attempt),
            tx=UnsignedTx(
                chain_id=int(row.chain_id),
                sender=parse_address(row.sender),
                nonce=int(row.nonce),
                to=parse_address(row.to_address),
                value_wei=int(row.value_wei),
                data=bytes(row.data),
                gas_limit=int(row.gas_limit),
                fees=Fees(
                    max_fee_per_gas=int(row.max_fee_per_gas),
                    max_priority_fee_per_gas=int(row.max_priority_fee_per_gas),
                ),
            ),
            raw=bytes(row.raw),
            tx_hash=row.tx_hash,
        )
        for row in rows
    ]
