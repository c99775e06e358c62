"""KYC levels: each allows more than the one below, per currency, in exact minor units."""

from __future__ import annotations

import pytest

from croupier.compliance.levels import MAX_KYC_LEVEL, limits_for_level
from croupier.core.errors import InvalidInput
from croupier.core.money import Currency


def test_an_unverified_player_may_withdraw_half_an_eth_a_day() -> None:
    assert limits_for_level(0).daily_withdrawal_minor(Currency.ETH) == 5 * 10**17


@pytest.mark.parametrize("currency", list(Currency))
def test_every_level_allows_more_than_the_one_below(currency: Currency) -> None:
    withdrawals = [limits_for_level(n).daily_withdrawal_minor(currency) for n in range(4)]
    deposits = [limits_for_level(n).daily_deposit_minor(currency) for n in range(4)]
    assert withdrawals == sorted(set(withdrawals))
    assert deposits == sorted(set(deposits))


@pytest.mark.parametrize("level", [-1, MAX_KYC_LEVEL + 1])
def test_levels_outside_the_scale_are_refused(level: int) -> None:
    with pytest.raises(InvalidInput):
        limits_for_level(level)
