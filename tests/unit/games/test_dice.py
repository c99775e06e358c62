"""Dice: roll = floor(float * 10001) / 100; multiplier = (1 - edge) / win chance."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.games.dice import (
    MAX_WIN_VALUES,
    Dice,
    DiceChoice,
    DiceOutcome,
    Direction,
    roll_hundredths,
    words_rolling_at_least,
)
from croupier.games.errors import InvalidBet

WORDS = 2**32
DICE = Dice()


def offered_choices() -> list[DiceChoice]:
    return [
        choice
        for direction in Direction
        for target_h in range(10001)
        if 1 <= (choice := DiceChoice(target_h, direction)).win_values <= MAX_WIN_VALUES
    ]


def test_a_float_of_exactly_0_rolls_0_00_and_the_largest_float_rolls_100_00() -> None:
    assert roll_hundredths(0) == 0
    assert roll_hundredths(WORDS - 1) == 10000
    assert DiceOutcome(roll_hundredths(WORDS - 1)).as_dict() == {"roll": "100.00"}


@given(st.integers(min_value=0, max_value=WORDS - 1))
def test_the_roll_is_floor_of_float_times_10001_in_exact_arithmetic(word: int) -> None:
    assert roll_hundredths(word) == int(Fraction(word, WORDS) * 10001)


def test_word_counts_per_roll_match_the_roll_function_at_every_boundary() -> None:
    for roll_h in range(1, 10001):
        first_word = WORDS - words_rolling_at_least(roll_h)
        assert roll_hundredths(first_word) == roll_h
        assert roll_hundredths(first_word - 1) == roll_h - 1


def test_every_roll_has_429453_or_429454_of_the_2_to_the_32_words() -> None:
    counts = {words_rolling_at_least(v) - words_rolling_at_least(v + 1) for v in range(10000)} | {
        words_rolling_at_least(10000)
    }
    assert counts == {429453, 429454}


@pytest.mark.parametrize(
    ("direction", "target", "win_values", "multiplier"),
    [
        ("over", "99.99", 1, Fraction(990099, 100)),  # only 100.00 wins: 9900.99x
        ("under", "0.01", 1, Fraction(990099, 100)),  # only 0.00 wins
        ("over", "2.00", 9800, Fraction(990099, 980000)),
        ("under", "98.00", 9800, Fraction(990099, 980000)),
        ("over", "50.50", 4950, Fraction(10001, 5000)),
        ("under", "50", 5000, Fraction(990099, 500000)),
    ],
)
def test_extreme_and_even_money_targets_price_exactly(
    direction: str, target: str, win_values: int, multiplier: Fraction
) -> None:
    choice = DICE.validate_choice(None, {"direction": direction, "target": target})
    assert choice.win_values == win_values
    assert DICE.win_multiplier(choice) == multiplier


@pytest.mark.parametrize(
    ("direction", "target"),
    [
        ("over", "100.00"),  # impossible: nothing rolls above 100.00
        ("under", "0.00"),  # impossible: nothing rolls below 0.00
        ("over", "1.99"),  # 98.00% chance: above the offered 97.99%
        ("under", "98.01"),
        ("under", "100.01"),
        ("over", "100.01"),
    ],
)
def test_impossible_and_near_certain_bets_are_refused(direction: str, target: str) -> None:
    with pytest.raises(InvalidBet, match="dice"):
        DICE.validate_choice(None, {"direction": direction, "target": target})


@pytest.mark.parametrize(
    "params",
    [
        {"direction": "over", "target": "50.505"},
        {"direction": "over", "target": "-1"},
        {"direction": "over", "target": 50.5},
        {"direction": "over", "target": True},
        {"direction": "over", "target": "1e2"},
        {"direction": "sideways", "target": "50"},
        {"direction": "over"},
        {"target": "50"},
    ],
)
def test_malformed_dice_bets_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(InvalidBet):
        DICE.validate_choice(None, params)


def test_a_roll_equal_to_the_target_loses_in_both_directions() -> None:
    for direction in Direction:
        choice = DiceChoice(5000, direction)
        assert DICE.multiplier(None, choice, DiceOutcome(5000)) == 0


def test_a_winning_roll_pays_the_exact_multiplier() -> None:
    choice = DiceChoice(5050, Direction.OVER)
    assert DICE.multiplier(None, choice, DiceOutcome(5051)) == Fraction(10001, 5000)
    assert DICE.multiplier(None, choice, DiceOutcome(5050)) == 0


def test_every_offered_dice_bet_returns_99_percent_to_within_the_word_rounding() -> None:
    """Exact RTP for all 19,600 offered bets, counted over the 2**32 words."""
    choices = offered_choices()
    assert len(choices) == 2 * MAX_WIN_VALUES
    for choice in choices:
        rtp = DICE.payout_distribution(None, choice).rtp
        # The winning word count is within 1 of win_values * 2**32 / 10001.
        bound = DICE.win_multiplier(choice) / WORDS
        assert abs(rtp - Fraction(99, 100)) < bound, choice
    rtps = [DICE.payout_distribution(None, c).rtp for c in (choices[0], choices[-1])]
    assert all(Fraction(98999, 100000) < rtp < Fraction(99001, 100000) for rtp in rtps)


def test_a_different_house_edge_changes_only_the_multiplier() -> None:
    choice = DiceChoice(5000, Direction.UNDER)
    assert Dice(Fraction(2, 100)).win_multiplier(choice) == Fraction(98, 100) * 10001 / 5000
