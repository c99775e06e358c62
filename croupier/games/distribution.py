"""Exact payout distributions: the proof behind every stated RTP.

A bet's distribution maps each payout multiplier to its exact probability under the
game's real random mapping. Its mean is the RTP; its variance sets the width of the
Monte Carlo confidence interval that checks the mapping empirically.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class PayoutDistribution:
    """``(multiplier, probability)`` pairs, one per distinct multiplier, ascending."""

    outcomes: tuple[tuple[Fraction, Fraction], ...]

    def __post_init__(self) -> None:
        assert sum(p for _, p in self.outcomes) == 1, "probabilities must sum to 1"
        assert all(m >= 0 and p >= 0 for m, p in self.outcomes), self.outcomes
        multipliers = [m for m, _ in self.outcomes]
        assert multipliers == sorted(set(multipliers)), "one pair per multiplier, ascending"

    @classmethod
    def of(cls, pairs: Iterable[tuple[Fraction, Fraction]]) -> PayoutDistribution:
        """Merge pairs that share a multiplier and drop impossible ones."""
        merged: dict[Fraction, Fraction] = {}
        for multiplier, probability in pairs:
            merged[multiplier] = merged.get(multiplier, Fraction(0)) + probability
        return cls(tuple(sorted((m, p) for m, p in merged.items() if p)))

    @classmethod
    def win_or_lose(cls, multiplier: Fraction, p_win: Fraction) -> PayoutDistribution:
        """A bet that pays ``multiplier`` with probability ``p_win`` and nothing otherwise."""
        return cls.of([(multiplier, p_win), (Fraction(0), 1 - p_win)])

    @property
    def rtp(self) -> Fraction:
        """Expected payout per unit staked."""
        return sum((m * p for m, p in self.outcomes), Fraction(0))

    @property
    def variance(self) -> Fraction:
        """Variance of the payout per unit staked."""
        return sum((m * m * p for m, p in self.outcomes), Fraction(0)) - self.rtp**2

    @property
    def standard_deviation(self) -> float:
        return math.sqrt(self.variance)
