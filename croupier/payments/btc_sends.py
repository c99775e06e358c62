"""The hot wallet's Bitcoin sends: every signed spend, and the coins each send owns.

Bitcoin has no nonce. What keeps "never two different transactions paying the same
withdrawal" true is the inputs: every transaction signed for a send (the first, then
each RBF replacement) spends the first one's inputs, so they all conflict and the chain
includes at most one. Two rules here make that hold across crashes and restarts:

- each signed transaction is stored, with the plan it was signed from, before it is
  broadcast (``record_spend``): a crash after the broadcast loses nothing, and a stuck
  one is replaced from the very same inputs;
- each coin a send spends is owned by that send for good (``btc_hot_wallet_inputs``'s
  primary key): a later send never picks a coin an earlier one signed for, even while
  that earlier transaction is not (or no longer) in the node's mempool
  (``reserved_coins``).

The send itself (its ordinal, status, final txid and fee) is the chain-neutral
``hot_wallet_sends`` row of ``croupier.payments.sends``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from croupier.chains.bitcoin.backend import OutPoint
from croupier.chains.bitcoin.coins import SpendPlan, TxOut, Utxo
from croupier.chains.bitcoin.signing import SignedTransaction
from croupier.core.errors import Conflict
from croupier.ledger.connections import Bind, single_statement
from croupier.payments.sends import IN_FLIGHT, MAX_ATTEMPTS, lock_send
from croupier.payments.tables import (
    btc_hot_wallet_inputs,
    btc_hot_wallet_transactions,
    hot_wallet_sends,
)

# The most coins one hot address has reserved by sends in flight that a query returns.
MAX_RESERVED_COINS = 10_000


class CoinAlreadyReserved(Conflict):
    """A coin another send already signed for: signing it again could pay twice."""

    code = "btc_coin_already_reserved"


@dataclass(frozen=True, slots=True)
class StoredSpend:
    """A transaction signed for a send: enough to re-broadcast it or to replace it."""

    attempt: int
    signed: SignedTransaction

    @property
    def txid(self) -> str:
        return self.signed.txid

    @property
    def tx_hash(self) -> str:
        """The txid, under the name every chain's stored transactions share."""
        return self.signed.txid

    @property
    def raw(self) -> bytes:
        return self.signed.raw


def record_spend(
    engine: Engine, withdrawal_id: uuid.UUID, signed: SignedTransaction
) -> StoredSpend:
    """Store a signed transaction for the send before it is broadcast, and reserve its
    inputs for the send (idempotent). ``CoinAlreadyReserved`` if another send owns one."""
    with engine.begin() as conn:
        lock_send(conn, withdrawal_id)
        coins = [(u.txid, u.vout) for u in signed.plan.inputs]
        conn.execute(
            pg_insert(btc_hot_wallet_inputs)
            .values([{"txid": t, "vout": v, "withdrawal_id": withdrawal_id} for t, v in coins])
            .on_conflict_do_nothing()
        )
        taken = conn.execute(
            select(btc_hot_wallet_inputs.c.txid, btc_hot_wallet_inputs.c.vout).where(
                tuple_(btc_hot_wallet_inputs.c.txid, btc_hot_wallet_inputs.c.vout).in_(coins),
                btc_hot_wallet_inputs.c.withdrawal_id != withdrawal_id,
            )
        ).all()
        if taken:
            named = ", ".join(f"{row.txid}:{row.vout}" for row in taken)
            raise CoinAlreadyReserved(f"coins {named} belong to another send; not signing them")
        known = _spend_row(conn, signed.txid)
        if known is None:
            attempts = conn.execute(
                select(func.count()).where(
                    btc_hot_wallet_transactions.c.withdrawal_id == withdrawal_id
                )
            ).scalar_one()
            assert attempts < MAX_ATTEMPTS, (
                f"withdrawal {withdrawal_id} was signed {attempts} times"
            )
            conn.execute(
                pg_insert(btc_hot_wallet_transactions).values(
                    txid=signed.txid,
                    withdrawal_id=withdrawal_id,
                    attempt=attempts + 1,
                    spend_plan=plan_record(signed.plan),
                    fee_sat=signed.fee_sat,
                    vsize=signed.vsize,
                    raw=signed.raw,
                )
            )
            known = _spend_row(conn, signed.txid)
            assert known is not None
        assert known.withdrawal_id == withdrawal_id, f"{signed.txid} pays another send"
        return _stored(known)


def spends(bind: Bind, withdrawal_id: uuid.UUID) -> list[StoredSpend]:
    """Every transaction signed for the send, oldest first."""
    with single_statement(bind) as conn:
        rows = conn.execute(
            select(btc_hot_wallet_transactions)
            .where(btc_hot_wallet_transactions.c.withdrawal_id == withdrawal_id)
            .order_by(btc_hot_wallet_transactions.c.attempt)
        ).all()
    return [_stored(row) for row in rows]


def reserved_coins(bind: Bind, *, sender: str) -> frozenset[OutPoint]:
    """The coins of ``sender`` that sends still in flight have signed for."""
    with single_statement(bind) as conn:
        rows = conn.execute(
            select(btc_hot_wallet_inputs.c.txid, btc_hot_wallet_inputs.c.vout)
            .join(
                hot_wallet_sends,
                hot_wallet_sends.c.withdrawal_id == btc_hot_wallet_inputs.c.withdrawal_id,
            )
            .where(
                hot_wallet_sends.c.chain == "bitcoin",
                hot_wallet_sends.c.sender == sender,
                hot_wallet_sends.c.status == IN_FLIGHT,
            )
            .limit(MAX_RESERVED_COINS)
        ).all()
    return frozenset(OutPoint(row.txid, int(row.vout)) for row in rows)


# -- the plan as JSON (amounts as decimal strings, as everywhere outside Python) ----------


def plan_record(plan: SpendPlan) -> dict[str, Any]:
    return {
        "inputs": [
            {
                "txid": u.txid,
                "vout": u.vout,
                "value_sat": str(u.value_sat),
                "address": u.address,
                "confirmations": u.confirmations,
                "from_own_wallet": u.from_own_wallet,
            }
            for u in plan.inputs
        ],
        "payments": [_output_record(p) for p in plan.payments],
        "change": None if plan.change is None else _output_record(plan.change),
        "fee_sat": str(plan.fee_sat),
        "vsize_estimate": plan.vsize_estimate,
    }


def plan_from_record(record: dict[str, Any]) -> SpendPlan:
    change = record["change"]
    return SpendPlan(
        inputs=tuple(
            Utxo(
                txid=u["txid"],
                vout=int(u["vout"]),
                value_sat=int(u["value_sat"]),
                address=u["address"],
                confirmations=int(u["confirmations"]),
                from_own_wallet=bool(u["from_own_wallet"]),
            )
            for u in record["inputs"]
        ),
        payments=tuple(_output(p) for p in record["payments"]),
        change=None if change is None else _output(change),
        fee_sat=int(record["fee_sat"]),
        vsize_estimate=int(record["vsize_estimate"]),
    )


def _output_record(output: TxOut) -> dict[str, str]:
    return {"address": output.address, "amount_sat": str(output.amount_sat)}


def _output(record: dict[str, str]) -> TxOut:
    return TxOut(record["address"], int(record["amount_sat"]))


def _spend_row(conn: Connection, txid: str) -> Row[tuple[object, ...]] | None:
    row: Row[tuple[object, ...]] | None = conn.execute(
        select(btc_hot_wallet_transactions).where(btc_hot_wallet_transactions.c.txid == txid)
    ).one_or_none()
    return row


def _stored(row: Row[tuple[object, ...]]) -> StoredSpend:
    signed = SignedTransaction(
        plan=plan_from_record(row.spend_plan),
        txid=row.txid,
        raw_hex=bytes(row.raw).hex(),
        vsize=int(row.vsize),
    )
    assert signed.fee_sat == int(row.fee_sat), f"{row.txid}: the stored fee disagrees"
    return StoredSpend(attempt=int(row.attempt), signed=signed)
