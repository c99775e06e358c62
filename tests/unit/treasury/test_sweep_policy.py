"""The sweep and refill amounts: exactly the excess, never below what withdrawals need."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.treasury.sweep_policy import (
    HotWalletLimits,
    HotWalletPosition,
    refill_amount,
    sweep_amount,
)

LIMITS = HotWalletLimits(cap=100, target=50, floor=10)
amounts = st.integers(min_value=0, max_value=10**30)


def position(on_chain: int, *, ledger: int | None = None, reserved: int = 0, fee: int = 0):
    return HotWalletPosition(
        on_chain=on_chain,
        ledger_available=on_chain if ledger is None else ledger,
        reserved=reserved,
        own_fee=fee,
    )


def test_a_balance_over_the_cap_sends_exactly_the_excess_over_the_target() -> None:
    assert sweep_amount(position(130), LIMITS) == 80


def test_nothing_is_swept_at_or_below_the_cap() -> None:
    assert sweep_amount(position(100), LIMITS) == 0
    assert sweep_amount(position(60), LIMITS) == 0


def test_a_sweep_never_leaves_less_than_approved_withdrawals_need() -> None:
    assert sweep_amount(position(130, reserved=90), LIMITS) == 40
    assert sweep_amount(position(130, reserved=130), LIMITS) == 0


def test_the_sweeps_own_worst_fee_stays_behind_when_it_pays_it() -> None:
    assert sweep_amount(position(130, fee=3), LIMITS) == 77


def test_coins_the_ledger_does_not_have_available_are_never_swept() -> None:
    """A sweep in flight is held in the ledger: a second run sees the coins gone."""
    assert sweep_amount(position(130, ledger=50), LIMITS) == 0
    assert sweep_amount(position(130, ledger=120), LIMITS) == 70
    assert sweep_amount(position(130, ledger=-5), LIMITS) == 0


def test_below_the_floor_a_refill_restores_the_target() -> None:
    assert refill_amount(position(4), LIMITS) == 46
    assert refill_amount(position(10), LIMITS) == 0


def test_a_refill_brings_enough_for_approved_withdrawals_too() -> None:
    assert refill_amount(position(4, reserved=70), LIMITS) == 66


def test_limits_must_be_ordered_floor_target_cap() -> None:
    with pytest.raises(ValueError, match="floor < target < cap"):
        HotWalletLimits(cap=50, target=50, floor=10)


@given(on_chain=amounts, ledger=amounts, reserved=amounts, fee=st.integers(0, 10**18))
def test_what_stays_covers_the_target_and_the_reservations_whenever_it_sweeps(
    on_chain: int, ledger: int, reserved: int, fee: int
) -> None:
    held = position(on_chain, ledger=ledger, reserved=reserved, fee=fee)
    amount = sweep_amount(held, LIMITS)
    assert 0 <= amount <= held.spendable
    if amount:
        assert held.spendable > LIMITS.cap
        assert held.spendable - amount - fee == max(LIMITS.target, reserved)


@given(on_chain=amounts, ledger=amounts, reserved=amounts)
def test_sweeps_and_refills_never_both_fire_and_a_refill_ends_at_what_must_stay(
    on_chain: int, ledger: int, reserved: int
) -> None:
    held = position(on_chain, ledger=ledger, reserved=reserved)
    swept, refilled = sweep_amount(held, LIMITS), refill_amount(held, LIMITS)
    assert not (swept and refilled)
    if refilled:
        assert held.spendable + refilled == max(LIMITS.target, reserved)
