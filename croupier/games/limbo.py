"""Limbo: a result multiplier; the player wins their target when the result reaches it.

``result = floor((1 - edge) / float * 100) / 100``, at least 1.00 and at most
1,000,000.00 (a float of exactly 0 gives the cap). With the default edge that is the
familiar ``floor(0.99 / float * 100) / 100``. In words w (float = w / 2**32) the
result in hundredths is ``floor((1 - edge) * 100 * 2**32 / w)``, computed in integers.

A target t wins on every word ``w <= (1 - edge) * 100 * 2**32 / t`` plus ``w = 0``, so
the exact RTP is ``t/100 * (floor((1 - edge) * 100 * 2**32 / t) + 1) / 2**32``: just
above ``1 - edge``, by at most ``t / (100 * 2**32)`` (0.023 points at the 1,000,000x cap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

from croupier.games.distribution import PayoutDistribution
from croupier.games.edge import DEFAULT_HOUSE_EDGE
from croupier.games.game import JsonValue
from croupier.games.params import Params, format_hundredths
from croupier.games.rng import WORD_SCALE
from croupier.games.targets import MAX_TARGET_H, TargetChoice, result_dividend, validate_target

MIN_RESULT_H = 100  # 1.00x
MAX_RESULT_H = MAX_TARGET_H  # 1,000,000.00x


@dataclass(frozen=True, slots=True)
class LimboOutcome:
    result_h: int

    def as_dict(self) -> dict[str, JsonValue]:
        return {"result": format_hundredths(self.result_h)}


@dataclass(frozen=True, slots=True)
class Limbo:
    edge: Fraction = DEFAULT_HOUSE_EDGE
    dividend: int = field(init=False, repr=False)  # floor((1 - edge) * 100 * 2**32)

    name: ClassVar[str] = "limbo"
    setup_keys: ClassVar[frozenset[str]] = frozenset()
    choice_keys: ClassVar[frozenset[str]] = frozenset({"target"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "dividend", result_dividend(self.edge, WORD_SCALE))
        assert self.dividend > MAX_RESULT_H, "word 1 must give the cap, like word 0"

    def result_hundredths(self, word: int) -> int:
        """``floor((1 - edge) * 100 / float)`` clamped to 1.00..1,000,000.00."""
        if word == 0:
            return MAX_RESULT_H
        result_h = self.dividend // word
        if result_h > MAX_RESULT_H:
            return MAX_RESULT_H
        return result_h if result_h > MIN_RESULT_H else MIN_RESULT_H

    def words_reaching(self, result_h: int) -> int:
        """How many of the 2**32 words give a result of at least ``result_h`` (101..cap)."""
        assert MIN_RESULT_H < result_h <= MAX_RESULT_H, result_h
        # floor(K / w) >= t  <=>  w <= K / t (K the dividend); plus w = 0, the cap.
        return min(WORD_SCALE, self.dividend // result_h + 1)

    def validate_setup(self, params: Params) -> None:
        return None

    def validate_choice(self, setup: None, params: Params) -> TargetChoice:
        return validate_target(params, self.name)

    def floats_needed(self, setup: None) -> int:
        return 1

    def outcome(self, setup: None, floats: Sequence[int]) -> LimboOutcome:
        return LimboOutcome(self.result_hundredths(floats[0]))

    def multiplier(self, setup: None, choice: TargetChoice, outcome: LimboOutcome) -> Fraction:
        return choice.multiplier(outcome.result_h)

    def payout_distribution(self, setup: None, choice: TargetChoice) -> PayoutDistribution:
        return choice.distribution(Fraction(self.words_reaching(choice.target_h), WORD_SCALE))
