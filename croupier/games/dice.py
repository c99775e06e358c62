"""Dice: a roll from 0.00 to 100.00; the player bets it lands over or under a target.

``roll = floor(float * 10001) / 100``, so there are 10001 roll values. A bet wins on
``n`` of them (over T: rolls above T; under T: rolls below T; a roll equal to the
target loses), its win chance is ``n / 10001`` and its multiplier is exactly
``(1 - edge) * 10001 / n``. The exact RTP differs from ``1 - edge`` only because
2**32 words do not split evenly into 10001 rolls (each roll has 429453 or 429454
words); ``payout_distribution`` counts words, so it states the RTP to the last bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import ClassVar

from croupier.games.distribution import PayoutDistribution
from croupier.games.edge import DEFAULT_HOUSE_EDGE
from croupier.games.errors import InvalidBet
from croupier.games.game import JsonValue
from croupier.games.params import Params, format_hundredths, hundredths, one_of
from croupier.games.rng import WORD_SCALE

ROLL_VALUES = 10001  # 0.00, 0.01, ..., 100.00
MAX_ROLL_H = ROLL_VALUES - 1
# A bet must win on 1 to 9800 roll values: win chance 0.01% (9900.99x) to 97.99%.
MIN_WIN_VALUES = 1
MAX_WIN_VALUES = 9800


class Direction(StrEnum):
    OVER = "over"
    UNDER = "under"


@dataclass(frozen=True, slots=True)
class DiceChoice:
    target_h: int  # hundredths: 5050 is 50.50
    direction: Direction

    @property
    def win_values(self) -> int:
        """How many of the 10001 roll values win."""
        if self.direction is Direction.OVER:
            return MAX_ROLL_H - self.target_h
        return self.target_h

    def wins(self, roll_h: int) -> bool:
        if self.direction is Direction.OVER:
            return roll_h > self.target_h
        return roll_h < self.target_h


@dataclass(frozen=True, slots=True)
class DiceOutcome:
    roll_h: int

    def as_dict(self) -> dict[str, JsonValue]:
        return {"roll": format_hundredths(self.roll_h)}


def roll_hundredths(word: int) -> int:
    """``floor(float * 10001)`` for float = word / 2**32, in exact integer arithmetic."""
    return (word * ROLL_VALUES) >> 32


def words_rolling_at_least(roll_h: int) -> int:
    """How many of the 2**32 words give a roll of at least ``roll_h`` hundredths."""
    if roll_h <= 0:
        return WORD_SCALE
    # floor(w * 10001 / 2**32) >= v  <=>  w >= ceil(v * 2**32 / 10001)
    return WORD_SCALE - -(-roll_h * WORD_SCALE // ROLL_VALUES)


@dataclass(frozen=True, slots=True)
class Dice:
    edge: Fraction = DEFAULT_HOUSE_EDGE
    name: ClassVar[str] = "dice"
    setup_keys: ClassVar[frozenset[str]] = frozenset()
    choice_keys: ClassVar[frozenset[str]] = frozenset({"target", "direction"})

    def validate_setup(self, params: Params) -> None:
        return None

    def validate_choice(self, setup: None, params: Params) -> DiceChoice:
        direction = Direction(one_of(params, "direction", list(Direction), self.name))
        target_h = hundredths(params, "target", self.name)
        choice = DiceChoice(target_h, direction)
        if target_h > MAX_ROLL_H or not MIN_WIN_VALUES <= choice.win_values <= MAX_WIN_VALUES:
            raise InvalidBet(
                f"dice: {direction} {format_hundredths(target_h)} wins on "
                f"{max(choice.win_values, 0)} of 10001 rolls; a bet must win on "
                f"{MIN_WIN_VALUES} to {MAX_WIN_VALUES}"
            )
        return choice

    def floats_needed(self, setup: None) -> int:
        return 1

    def outcome(self, setup: None, floats: Sequence[int]) -> DiceOutcome:
        return DiceOutcome(roll_hundredths(floats[0]))

    def win_multiplier(self, choice: DiceChoice) -> Fraction:
        """``(1 - edge) / win chance``, exactly."""
        return (1 - self.edge) * ROLL_VALUES / choice.win_values

    def multiplier(self, setup: None, choice: DiceChoice, outcome: DiceOutcome) -> Fraction:
        return self.win_multiplier(choice) if choice.wins(outcome.roll_h) else Fraction(0)

    def payout_distribution(self, setup: None, choice: DiceChoice) -> PayoutDistribution:
        if choice.direction is Direction.OVER:
            winning_words = words_rolling_at_least(choice.target_h + 1)
        else:
            winning_words = WORD_SCALE - words_rolling_at_least(choice.target_h)
        return PayoutDistribution.win_or_lose(
            self.win_multiplier(choice), Fraction(winning_words, WORD_SCALE)
        )
