"""Bitcoin consolidation batches: the deposit coins still to move, and the signed
transaction that moves a batch of them, stored with its movements.

A deposit coin is a candidate when its deposit is ``credited`` (its coins are the
ledger's: pending, confirming, held and dust deposits stay where they are) and no
consolidation has signed for it yet (``treasury_btc_inputs``, keyed by the coin). A
batch is stored and its movements opened (held in the ledger) in one database
transaction, before anything is broadcast: a crash re-broadcasts the same bytes, and a
coin is never signed for twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.chains.bitcoin.backend import OutPoint
from croupier.chains.bitcoin.signing import SignedTransaction
from croupier.ledger.connections import Bind, single_statement
from croupier.sweeps.movements import Movement, NewMovement, open_movement
from croupier.sweeps.tables import treasury_btc_inputs, treasury_btc_transactions

CHAIN = "bitcoin"


@dataclass(frozen=True, slots=True)
class DepositCoin:
    """A credited deposit's coin at a player's deposit address (``hd_index`` signs it)."""

    address: str
    hd_index: int
    txid: str
    vout: int
    value_sat: int
    confirmations: int

    @property
    def outpoint(self) -> OutPoint:
        return OutPoint(self.txid, self.vout)


@dataclass(frozen=True, slots=True)
class StoredBatch:
    txid: str
    raw: bytes
    fee_sat: int


_CANDIDATES = text(
    """
    WITH coins AS (
        SELECT d.address, a.hd_index, d.tx_hash, d.log_index, d.amount, d.confirmations
        FROM deposits d
        JOIN deposit_addresses a ON a.chain = d.chain AND a.address = d.address
        WHERE d.chain = :chain AND d.status = 'credited' AND d.currency = 'BTC'
          AND NOT EXISTS (SELECT 1 FROM treasury_btc_inputs i
                          WHERE i.txid = d.tx_hash AND i.vout = d.log_index)
    ), worth AS (
        SELECT address, sum(amount) AS total FROM coins
        GROUP BY address HAVING sum(amount) >= :minimum
        ORDER BY sum(amount) DESC, address LIMIT :max_addresses
    )
    SELECT c.* FROM coins c JOIN worth w ON w.address = c.address
    ORDER BY w.total DESC, c.address, c.amount DESC, c.tx_hash, c.log_index
    LIMIT :max_coins
    """
)


def candidate_coins(
    bind: Bind, *, minimum: int, max_addresses: int, max_coins: int
) -> list[DepositCoin]:
    """Unconsolidated credited coins of the deposit addresses holding at least
    ``minimum``, the fullest addresses first (bounded by addresses and by coins)."""
    assert minimum > 0 and max_addresses > 0 and max_coins > 0
    params = {
        "chain": CHAIN,
        "minimum": minimum,
        "max_addresses": max_addresses,
        "max_coins": max_coins,
    }
    with single_statement(bind) as conn:
        rows = conn.execute(_CANDIDATES, params).all()
    return [
        DepositCoin(
            address=row.address,
            hd_index=int(row.hd_index),
            txid=row.tx_hash,
            vout=int(row.log_index),
            value_sat=int(row.amount),
            confirmations=int(row.confirmations),
        )
        for row in rows
    ]


def open_batch(
    engine: Engine,
    signed: SignedTransaction,
    movements: Sequence[NewMovement],
    owners: Mapping[OutPoint, str],
) -> list[Movement]:
    """Store the batch's transaction, claim each coin for its movement, and open (hold)
    the movements: all or nothing. ``owners`` names each input's movement id."""
    assert {OutPoint(u.txid, u.vout) for u in signed.plan.inputs} == set(owners)
    with engine.begin() as conn:
        conn.execute(
            pg_insert(treasury_btc_transactions).values(
                txid=signed.txid, fee_sat=signed.fee_sat, vsize=signed.vsize, raw=signed.raw
            )
        )
        opened = [open_movement(conn, movement) for movement in movements]
        conn.execute(
            pg_insert(treasury_btc_inputs).values(
                [
                    {
                        "txid": coin.txid,
                        "vout": coin.vout,
                        "spent_by": signed.txid,
                        "movement_id": m,
                    }
                    for coin, m in owners.items()
                ]
            )
        )
        return opened


def batch_of(bind: Bind, movement_id: str) -> StoredBatch:
    """The transaction that moves the movement's coins."""
    with single_statement(bind) as conn:
        return _batch(conn, movement_id)


def _batch(conn: Connection, movement_id: str) -> StoredBatch:
    row = conn.execute(
        select(treasury_btc_transactions)
        .join(
            treasury_btc_inputs,
            treasury_btc_inputs.c.spent_by == treasury_btc_transactions.c.txid,
        )
        .where(treasury_btc_inputs.c.movement_id == movement_id)
        .limit(1)
    ).one_or_none()
    assert row is not None, f"movement {movement_id} has no Bitcoin transaction"
    return StoredBatch(txid=row.txid, raw=bytes(row.raw), fee_sat=int(row.fee_sat))
