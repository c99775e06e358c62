"""Coin selection: pays exactly, never dust change, never a stranger's unconfirmed coin."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from croupier.chains.bitcoin.addresses import parse_address
from croupier.chains.bitcoin.coins import (
    SpendPlan,
    SpendPolicy,
    TxOut,
    Utxo,
    plan_spend,
    plan_sweep,
)
from croupier.chains.bitcoin.errors import FeeRateAboveCap, InsufficientUtxos, TooManyInputs
from croupier.chains.bitcoin.fees import (
    FeeTarget,
    fee_for,
    p2wpkh_input_vsize,
    p2wpkh_spend_vsize,
)
from croupier.core.errors import InvalidAmount
from tests.btc_simulator.wallets import NETWORK, POLICY, hot_key, outsider_key

HOT = hot_key().address
PAYEE = outsider_key(1).address
PAYEE_SCRIPT = parse_address(PAYEE, NETWORK).script_pubkey
CHANGE_SCRIPT = parse_address(HOT, NETWORK).script_pubkey
DUST = POLICY.dust_threshold_sat
# The property test bounds inputs tightly so that "too fragmented" comes up often.
FEW_INPUTS = dataclasses.replace(POLICY, max_inputs=6)


def coin(n: int, value_sat: int, confirmations: int = 6, own: bool = False) -> Utxo:
    return Utxo(f"{n:064x}", 0, value_sat, HOT, confirmations, from_own_wallet=own)


def pay(
    utxos: list[Utxo], amount_sat: int, rate_sat_kvb: int = 1000, policy: SpendPolicy = POLICY
) -> SpendPlan:
    return plan_spend(
        utxos,
        [TxOut(PAYEE, amount_sat)],
        change_address=HOT,
        target=FeeTarget(rate_sat_kvb),
        policy=policy,
    )


def test_the_smallest_single_coin_that_pays_is_chosen() -> None:
    plan = pay([coin(1, 5_000_000), coin(2, 200_000), coin(3, 150_000), coin(4, 90_000)], 100_000)
    assert [u.value_sat for u in plan.inputs] == [150_000]
    assert plan.change == TxOut(HOT, 150_000 - 100_000 - plan.fee_sat)


def test_without_a_single_coin_the_largest_coins_pay_first() -> None:
    plan = pay([coin(1, 30_000), coin(2, 60_000), coin(3, 50_000), coin(4, 40_000)], 100_000)
    assert [u.value_sat for u in plan.inputs] == [60_000, 50_000]


def test_change_below_the_dust_threshold_goes_to_the_fee() -> None:
    with_change_fee = fee_for(p2wpkh_spend_vsize(1, [PAYEE_SCRIPT, CHANGE_SCRIPT]), 1000)
    value = 100_000 + with_change_fee + DUST - 1  # change would be one satoshi short of dust
    plan = pay([coin(1, value)], 100_000)
    assert plan.change is None
    assert plan.fee_sat == value - 100_000
    assert plan.vsize_estimate == p2wpkh_spend_vsize(1, [PAYEE_SCRIPT])


def test_change_at_the_dust_threshold_is_kept() -> None:
    with_change_fee = fee_for(p2wpkh_spend_vsize(1, [PAYEE_SCRIPT, CHANGE_SCRIPT]), 1000)
    plan = pay([coin(1, 100_000 + with_change_fee + DUST)], 100_000)
    assert plan.change == TxOut(HOT, DUST)


def test_unconfirmed_coins_from_strangers_are_never_spent() -> None:
    with pytest.raises(InsufficientUtxos):
        pay([coin(1, 10**8, confirmations=0, own=False)], 100_000)


def test_own_unconfirmed_change_is_spent_only_when_confirmed_coins_fall_short() -> None:
    change = coin(1, 10**8, confirmations=0, own=True)
    assert pay([change, coin(2, 200_000)], 100_000).inputs == (coin(2, 200_000),)
    assert pay([change, coin(2, 50_000)], 100_000).inputs == (change,)


def test_coins_worth_less_than_their_spending_fee_are_left_alone() -> None:
    rate = 10_000  # 10 sat/vB: spending a P2WPKH input costs 680 sat
    spend_cost = fee_for(p2wpkh_input_vsize(), rate)
    dusty = [coin(n, spend_cost) for n in range(2, 12)]
    plan = pay([coin(1, 200_000), *dusty], 150_000, rate)
    assert plan.inputs == (coin(1, 200_000),)


def test_a_wallet_too_fragmented_to_pay_within_the_input_bound_must_consolidate() -> None:
    crumbs = [coin(n, 10_000) for n in range(1, 60)]  # 590_000 sat in 59 coins
    with pytest.raises(TooManyInputs, match="consolidate"):
        pay(crumbs, 300_000)  # needs more than POLICY.max_inputs (20) inputs


def test_a_wallet_that_cannot_pay_at_all_says_so() -> None:
    with pytest.raises(InsufficientUtxos, match="cannot pay") as raised:
        pay([coin(1, 50_000), coin(2, 40_000)], 100_000)
    assert not isinstance(raised.value, TooManyInputs)


def test_a_payment_below_the_dust_threshold_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="dust"):
        pay([coin(1, 10**8)], DUST - 1)


def test_a_feerate_above_the_cap_is_refused() -> None:
    with pytest.raises(FeeRateAboveCap):
        pay([coin(1, 10**8)], 100_000, POLICY.max_fee_rate_sat_kvb + 1)


def test_the_plan_does_not_depend_on_the_order_coins_are_listed_in() -> None:
    coins = [coin(n, 20_000 + 1000 * n) for n in range(1, 15)]
    assert pay(coins, 100_000) == pay(list(reversed(coins)), 100_000)


def test_a_sweep_moves_every_spendable_coin_less_the_fee() -> None:
    coins = [coin(1, 300_000), coin(2, 200_000, confirmations=0, own=False), coin(3, 100_000)]
    plan = plan_sweep(coins, PAYEE, target=FeeTarget(1000), policy=POLICY)
    assert [u.value_sat for u in plan.inputs] == [300_000, 100_000]
    assert plan.change is None
    assert plan.payments == (TxOut(PAYEE, 400_000 - plan.fee_sat),)
    assert plan.fee_sat == fee_for(p2wpkh_spend_vsize(2, [PAYEE_SCRIPT]), 1000)


def test_a_sweep_of_dust_is_refused() -> None:
    with pytest.raises(InsufficientUtxos, match="nothing above dust"):
        plan_sweep([coin(1, 600)], PAYEE, target=FeeTarget(1000), policy=POLICY)
    with pytest.raises(InsufficientUtxos):
        plan_sweep([], PAYEE, target=FeeTarget(1000), policy=POLICY)


# -- properties ---------------------------------------------------------------------------


@st.composite
def wallets(draw: st.DrawFn) -> list[Utxo]:
    """Up to 60 coins of one order of magnitude (small, medium or large), some
    unconfirmed, some of those our own change."""
    largest = draw(st.sampled_from([30_000, 200_000, 10**8]))
    size = draw(st.integers(min_value=1, max_value=60))
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=1, max_value=largest),
                st.integers(min_value=0, max_value=3),
                st.booleans(),
            ),
            min_size=size,
            max_size=size,
        )
    )
    return [
        coin(n, value, confirmations, own)
        for n, (value, confirmations, own) in enumerate(rows, start=1)
    ]


def top_k_can_pay(coins: list[Utxo], amount_sat: int, rate: int, k: int) -> bool:
    """Whether the k largest coins pay ``amount_sat`` plus the fee without change (the
    cheapest shape of a k-input spend): if they cannot, no k coins can."""
    best = sorted((u.value_sat for u in coins), reverse=True)[:k]
    return len(best) == k and sum(best) >= amount_sat + fee_for(
        p2wpkh_spend_vsize(k, [PAYEE_SCRIPT]), rate
    )


@st.composite
def spends(draw: st.DrawFn) -> tuple[list[Utxo], int, int]:
    """A wallet, an amount around what it holds (so some need many coins, some fail),
    and a feerate."""
    utxos = draw(wallets())
    total = sum(u.value_sat for u in utxos)
    percent = draw(st.integers(min_value=1, max_value=110))
    amount_sat = max(DUST, total * percent // 100)
    rate = draw(st.integers(min_value=1000, max_value=30_000))
    return utxos, amount_sat, rate


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spends())
def test_selection_properties(spend: tuple[list[Utxo], int, int]) -> None:
    utxos, amount_sat, rate = spend
    spend_cost = fee_for(p2wpkh_input_vsize(), rate)
    usable = [u for u in utxos if u.spendable and u.value_sat > spend_cost]
    bounded = range(1, FEW_INPUTS.max_inputs + 1)
    try:
        plan = pay(utxos, amount_sat, rate, FEW_INPUTS)
    except TooManyInputs:
        assert not any(top_k_can_pay(usable, amount_sat, rate, k) for k in bounded)
        assert top_k_can_pay(usable, amount_sat, rate, len(usable))
        return
    except InsufficientUtxos:
        assert not any(top_k_can_pay(usable, amount_sat, rate, k) for k in bounded)
        return
    # Inputs cover the amount plus the fee, exactly.
    change_sat = plan.change.amount_sat if plan.change else 0
    assert plan.input_total_sat == amount_sat + change_sat + plan.fee_sat
    # Never a stranger's unconfirmed coin; never more inputs than allowed.
    assert all(u.confirmations >= 1 or u.from_own_wallet for u in plan.inputs)
    assert len(plan.inputs) <= FEW_INPUTS.max_inputs
    # Never dust change; no change only because it would have been dust.
    assert plan.change is None or plan.change.amount_sat >= DUST
    if plan.change is None:
        with_change = fee_for(
            p2wpkh_spend_vsize(len(plan.inputs), [PAYEE_SCRIPT, CHANGE_SCRIPT]), rate
        )
        assert plan.input_total_sat - amount_sat - with_change < DUST
    # The fee pays the target feerate over an upper bound of the size.
    scripts = [PAYEE_SCRIPT, *([CHANGE_SCRIPT] if plan.change else [])]
    assert plan.vsize_estimate == p2wpkh_spend_vsize(len(plan.inputs), scripts)
    assert plan.fee_sat >= fee_for(plan.vsize_estimate, rate)
    # Own unconfirmed change only when the confirmed coins alone could not pay.
    if any(u.confirmations == 0 for u in plan.inputs):
        confirmed = [u for u in utxos if u.confirmations >= 1]
        with pytest.raises(InsufficientUtxos):
            pay(confirmed, amount_sat, rate, FEW_INPUTS)
