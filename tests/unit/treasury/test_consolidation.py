"""Consolidation planning: which addresses, top-up before tokens, one step per address."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from croupier.core.money import Currency
from croupier.treasury.consolidation import (
    AddressHoldings,
    ConsolidationRules,
    StepKind,
    plan_round,
)

GWEI = 10**9
RULES = ConsolidationRules(
    native=Currency.ETH,
    minimums={Currency.ETH: 10**16, Currency.USDT: 50 * 10**6},
    gas_limits={Currency.ETH: 21_000, Currency.USDT: 100_000},
    max_fee_per_gas=100 * GWEI,
    max_addresses=10,
)
ETH_FEE = 21_000 * 100 * GWEI
TOKEN_FEE = 100_000 * 100 * GWEI


def holding(n: int, **booked: int) -> AddressHoldings:
    return AddressHoldings(
        address=f"0x{n:040x}",
        hd_index=n,
        booked={Currency(code): amount for code, amount in booked.items()},
    )


def test_tokens_at_an_address_without_gas_get_a_top_up_of_exactly_the_shortfall() -> None:
    (step,) = plan_round([holding(1, USDT=80 * 10**6, ETH=TOKEN_FEE // 4)], RULES)
    assert step.kind is StepKind.TOP_UP
    assert step.currency is Currency.ETH
    assert step.amount == TOKEN_FEE - TOKEN_FEE // 4
    assert step.fee_reserved == ETH_FEE


def test_tokens_at_an_address_that_can_pay_its_gas_are_moved_whole() -> None:
    (step,) = plan_round([holding(1, USDT=80 * 10**6, ETH=TOKEN_FEE)], RULES)
    assert step.kind is StepKind.CONSOLIDATION
    assert (step.currency, step.amount, step.fee_reserved) == (
        Currency.USDT,
        80 * 10**6,
        TOKEN_FEE,
    )


def test_native_coin_is_moved_less_the_most_its_own_fee_can_be() -> None:
    (step,) = plan_round([holding(1, ETH=10**17)], RULES)
    assert step.kind is StepKind.CONSOLIDATION
    assert step.amount == 10**17 - ETH_FEE
    assert step.fee_reserved == ETH_FEE


def test_amounts_below_their_minimum_stay_where_they_are() -> None:
    assert plan_round([holding(1, USDT=49 * 10**6), holding(2, ETH=10**16)], RULES) == ()


def test_a_round_is_bounded_and_takes_addresses_in_the_order_given() -> None:
    holdings = [holding(n, ETH=10**17) for n in range(25)]
    steps = plan_round(holdings, replace(RULES, max_addresses=7))
    assert [step.hd_index for step in steps] == list(range(7))


@given(st.lists(st.tuples(st.integers(0, 10**18), st.integers(0, 10**9)), min_size=0, max_size=30))
def test_every_step_is_affordable_and_one_per_address(balances: list[tuple[int, int]]) -> None:
    holdings = [holding(n, ETH=eth, USDT=usdt) for n, (eth, usdt) in enumerate(balances)]
    steps = plan_round(holdings, RULES)
    assert len({step.address for step in steps}) == len(steps) <= RULES.max_addresses
    booked = {h.address: h for h in holdings}
    for step in steps:
        held = booked[step.address]
        if step.kind is StepKind.TOP_UP:
            assert held.of(Currency.ETH) + step.amount == TOKEN_FEE
        elif step.currency is Currency.ETH:
            assert step.amount + step.fee_reserved == held.of(Currency.ETH)
            assert step.amount >= RULES.minimums[Currency.ETH]
        else:
            assert step.amount == held.of(Currency.USDT)
            assert held.of(Currency.ETH) >= step.fee_reserved
