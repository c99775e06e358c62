"""Bonus arithmetic and the hedge rule: exact, on int minor units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.bonus.errors import BonusMaxBetExceeded
from croupier.bonus.patterns import CountedBet, is_hedge
from croupier.bonus.rules import (
    VipLevel,
    WageringTerms,
    cashback,
    check_max_bet,
    convert,
    deposit_match,
    rakeback,
    split_stake,
    vip_level,
)
from croupier.core.errors import InvalidInput

WEI = 10**18
NOW = datetime(2025, 1, 1, tzinfo=UTC)
WINDOW = timedelta(seconds=60)


def test_wagering_counts_each_game_by_its_weight() -> None:
    terms = WageringTerms(30, WEI, None, 86400, {"dice": 100, "crash": 50})

    assert terms.requirement(5 * WEI) == 150 * WEI
    assert [terms.contribution(g, 3) for g in ("dice", "crash", "mines")] == [3, 1, 0]


def test_terms_refuse_a_weight_above_100_percent() -> None:
    with pytest.raises(InvalidInput):
        WageringTerms(30, WEI, None, 86400, {"dice": 101})


@given(
    stake=st.integers(1, 10**30),
    payout_ratio=st.fractions(0, 10_000),
    cash=st.integers(0, 10**30),
)
def test_a_split_spends_cash_first_and_pays_back_pro_rata_without_creating_money(
    stake: int, payout_ratio: Fraction, cash: int
) -> None:
    payout = int(stake * payout_ratio)
    split = split_stake(stake, payout, cash_available=cash)

    assert split.stake_cash == min(stake, cash)
    assert split.stake_cash + split.stake_bonus == stake
    assert split.payout_cash + split.payout_bonus == payout
    assert split.payout_bonus * stake <= payout * split.stake_bonus  # never above its share


def test_a_conversion_is_capped_and_the_rest_returns_to_the_house() -> None:
    assert (convert(5 * WEI, 2 * WEI).to_cash, convert(5 * WEI, 2 * WEI).to_house) == (
        2 * WEI,
        3 * WEI,
    )
    assert (convert(WEI, None).to_cash, convert(WEI, None).to_house) == (WEI, 0)


def test_deposit_match_cashback_and_rakeback_are_exact() -> None:
    assert deposit_match(3 * WEI, 100, 1 * WEI) == WEI
    assert deposit_match(3, 50, WEI) == 1
    assert cashback(1001, 10) == 100
    assert cashback(-5 * WEI, 10) == 0
    # 1% edge on 1,000 wagered is 10 expected; 20% of it back.
    assert rakeback(1000, Fraction(1, 100), 20) == 2


def test_vip_level_comes_from_lifetime_volume() -> None:
    ladder = [VipLevel(0, 0, 5), VipLevel(1, 100 * WEI, 10), VipLevel(2, 1000 * WEI, 20)]

    assert vip_level(0, ladder).rakeback_percent == 5
    assert vip_level(100 * WEI, ladder).level == 1
    assert vip_level(10**6 * WEI, ladder).level == 2


def test_a_stake_above_the_bonus_max_bet_is_refused() -> None:
    check_max_bet(WEI, WEI)
    with pytest.raises(BonusMaxBetExceeded):
        check_max_bet(WEI + 1, WEI)


def _dice(target: str, direction: str, after_s: int = 0) -> CountedBet:
    return CountedBet(
        "dice", {"target": target, "direction": direction}, NOW + timedelta(seconds=after_s)
    )


def test_both_sides_of_an_even_dice_bet_within_the_window_is_a_hedge() -> None:
    assert is_hedge(_dice("50.00", "over"), _dice("50.00", "under", 5), WINDOW)
    assert is_hedge(_dice("49.50", "under"), _dice("50.49", "over", 5), WINDOW)


@pytest.mark.parametrize(
    ("previous", "bet"),
    [
        (_dice("50.00", "over"), _dice("50.00", "under", 61)),  # outside the window
        (_dice("50.00", "over"), _dice("50.00", "over", 5)),  # same side
        (_dice("90.00", "over"), _dice("10.00", "under", 5)),  # most rolls uncovered
        (None, _dice("50.00", "under")),
        (CountedBet("limbo", {"target": "2.00"}, NOW), _dice("50.00", "under", 5)),
    ],
)
def test_other_pairs_are_no_hedge(previous: CountedBet | None, bet: CountedBet) -> None:
    assert not is_hedge(previous, bet, WINDOW)
