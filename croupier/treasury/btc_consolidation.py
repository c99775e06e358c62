"""How a Bitcoin consolidation batch is shared out between its deposit addresses. Pure.

One transaction spends the coins of many deposit addresses into the hot wallet. The
ledger books it per address (one movement each, as Ethereum's one transaction per
address): what each address gave is the value of its coins, of which its share of the
fee went to the network and the rest reached the hot wallet. The fee is shared by the
number of inputs (each P2WPKH input weighs the same; the transaction's fixed overhead
and its one output are spread with them), the rounding remainder to the first address,
so the shares add up to the fee exactly. An address whose coins do not cover its share
(``amount <= 0``) is left out by the planner, which then plans the batch again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AddressShare:
    """One address's part of a batch, in satoshis: ``amount + fee`` = its coins' value."""

    address: str
    amount: int
    fee: int


def share_batch(
    coins_by_address: Mapping[str, tuple[int, ...]], fee_sat: int
) -> tuple[AddressShare, ...]:
    """Per address (in the mapping's order), what reaches the hot wallet and its fee
    share."""
    assert coins_by_address and fee_sat > 0
    inputs = sum(len(coins) for coins in coins_by_address.values())
    shares = {a: fee_sat * len(c) // inputs for a, c in coins_by_address.items()}
    first = next(iter(shares))
    shares[first] += fee_sat - sum(shares.values())
    result = []
    for address, coins in coins_by_address.items():
        result.append(AddressShare(address, sum(coins) - shares[address], shares[address]))
    return tuple(result)
