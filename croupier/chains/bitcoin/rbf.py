"""Fee bumping a stuck transaction by BIP-125 replacement.

The replacement pays the same payments from the same inputs (so it conflicts with the
original and exactly one of the two can ever confirm), with less change. It satisfies
the rules bitcoind enforces on a replacement:

- a higher feerate than the original: at least the original's rate plus the incremental
  relay feerate (``min_relay_fee_sat_kvb``), or the requested rate if that is higher;
- a higher absolute fee: at least everything it evicts (the original and any mempool
  descendants spending its change) plus the incremental feerate over its own size
  (rules 3 and 4);
- no new unconfirmed inputs (rule 2): if the change cannot absorb the bump, it adds
  confirmed coins only.

A bump above ``max_fee_rate_sat_kvb`` raises ``FeeRateAboveCap``: a human decides that.
Replacing a transaction evicts its descendants: whoever spent the original's unconfirmed
change must re-send those spends after the bump confirms.
"""

from __future__ import annotations

from collections.abc import Iterable

from croupier.chains.bitcoin.coins import SpendPlan, SpendPolicy, Utxo, plan_spend
from croupier.chains.bitcoin.fees import VBYTES_PER_KVB, FeeTarget
from croupier.chains.bitcoin.signing import SignedTransaction
from croupier.core.errors import InvalidInput


def replacement_fee_rate(
    original: SignedTransaction, requested_sat_kvb: int, policy: SpendPolicy
) -> int:
    """The feerate a replacement of ``original`` pays: the requested one, or the least
    that is strictly above the original's, whichever is higher."""
    original_rate = -(-original.fee_sat * VBYTES_PER_KVB // original.vsize)  # rounded up
    return max(requested_sat_kvb, original_rate + policy.min_relay_fee_sat_kvb)


def plan_replacement(
    original: SignedTransaction,
    *,
    fee_rate_sat_kvb: int,
    utxos: Iterable[Utxo],
    change_address: str,
    policy: SpendPolicy,
    evicted_descendants_fee_sat: int = 0,
) -> SpendPlan:
    """A plan replacing ``original``: same inputs and payments, a higher fee.

    ``utxos`` are the wallet's coins, from which only confirmed ones may be added.
    ``evicted_descendants_fee_sat`` is the total fee of mempool transactions spending the
    original's outputs, which the replacement evicts and must outbid too.
    """
    if evicted_descendants_fee_sat < 0:
        raise InvalidInput("the evicted descendants' fee cannot be negative")
    target = FeeTarget(
        rate_sat_kvb=replacement_fee_rate(original, fee_rate_sat_kvb, policy),
        replaced_fee_sat=original.fee_sat + evicted_descendants_fee_sat,
        incremental_rate_sat_kvb=policy.min_relay_fee_sat_kvb,
    )
    plan = plan_spend(
        (u for u in utxos if u.confirmations >= 1),
        original.plan.payments,
        change_address=change_address,
        target=target,
        policy=policy,
        required=original.plan.inputs,
    )
    assert plan.fee_sat > original.fee_sat, "a replacement pays a higher absolute fee"
    assert {u.outpoint for u in original.plan.inputs} <= {u.outpoint for u in plan.inputs}
    return plan
