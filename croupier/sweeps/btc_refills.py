"""A Bitcoin refill's transaction, checked against the approved refill.

Bitcoin has no single sender: a transaction spends earlier outputs (coins), each locked
to an address, and pays new ones. A cold-signed refill is accepted only if every coin it
spends was the cold address's, it pays exactly the approved amount to the hot address,
and whatever else it pays goes back to the cold address as change. Anything else (a
third party paid from cold, a stranger's coins mixed in) would move coins the ledger
does not follow. The fee is then exact, known before the transaction is mined: what
the inputs held minus what the outputs pay; it is the cold wallet's.
"""

from __future__ import annotations

from dataclasses import dataclass

from croupier.core.money import check_minor_units
from croupier.sweeps.errors import RefillTransactionMismatch
from croupier.sweeps.refills import RefillRecord


@dataclass(frozen=True, slots=True)
class BtcCoin:
    """A transaction output: one a refill spends (as its input) or one it pays."""

    address: str | None  # None for OP_RETURN and non-standard scripts
    value_sat: int

    def __post_init__(self) -> None:
        check_minor_units(self.value_sat, allow_zero=True)


@dataclass(frozen=True, slots=True)
class BitcoinRefillTransaction:
    """A transaction as the node reports it, each input read as the coin it spends."""

    tx_hash: str
    spent: tuple[BtcCoin, ...]
    outputs: tuple[BtcCoin, ...]

    @property
    def fee(self) -> int:
        return sum(c.value_sat for c in self.spent) - sum(c.value_sat for c in self.outputs)

    @property
    def worst_fee(self) -> int:
        """The fee held while it confirms: on Bitcoin the exact fee, not a bound."""
        return self.fee


def check_btc_refill_transaction(record: RefillRecord, tx: BitcoinRefillTransaction) -> None:
    """Refuse a transaction that is not exactly the approved transfer from cold."""
    cold, hot = record.cold_address, record.hot_address
    problems = []
    strangers = sorted({str(c.address) for c in tx.spent if c.address != cold})
    if not tx.spent or strangers:
        problems.append(
            f"it spends coins of {', '.join(strangers) or 'nobody'}, not only of {cold}"
        )
    paid_to_hot = sum(c.value_sat for c in tx.outputs if c.address == hot)
    if paid_to_hot != record.amount:
        problems.append(f"it pays {paid_to_hot}, not {record.amount}, to the hot wallet {hot}")
    others = sorted({str(c.address) for c in tx.outputs if c.address not in (hot, cold)})
    if others:
        problems.append(f"it also pays {', '.join(others)}, neither the hot wallet nor cold")
    if problems:
        raise RefillTransactionMismatch(
            f"transaction {tx.tx_hash} is not refill {record.id}: " + "; ".join(problems)
        )
