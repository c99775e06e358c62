"""Target bets, shared by limbo and crash: the player names a multiplier and is paid
exactly that multiplier when the round's result reaches it."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from croupier.games.distribution import PayoutDistribution
from croupier.games.errors import InvalidBet
from croupier.games.params import Params, format_hundredths, hundredths

MIN_TARGET_H = 101  # 1.01x: a 1.00x target could never lose
MAX_TARGET_H = 100_000_000  # 1,000,000.00x


@dataclass(frozen=True, slots=True)
class TargetChoice:
    target_h: int  # hundredths: 250 is 2.50x

    def multiplier(self, result_h: int) -> Fraction:
        """The target if ``result_h`` reached it, else 0."""
        return Fraction(self.target_h, 100) if result_h >= self.target_h else Fraction(0)

    def distribution(self, p_reach: Fraction) -> PayoutDistribution:
        return PayoutDistribution.win_or_lose(Fraction(self.target_h, 100), p_reach)


def validate_target(params: Params, game: str) -> TargetChoice:
    target_h = hundredths(params, "target", game)
    if not MIN_TARGET_H <= target_h <= MAX_TARGET_H:
        raise InvalidBet(
            f"{game}: target must be from {format_hundredths(MIN_TARGET_H)} to "
            f"{format_hundredths(MAX_TARGET_H)}; got {format_hundredths(target_h)}"
        )
    return TargetChoice(target_h)


def result_dividend(edge: Fraction, scale: int) -> int:
    """``floor((1 - edge) * 100 * scale)``: the result formulas' constant.

    A result is ``floor((1 - edge) * 100 * scale / d)`` for a whole ``d >= 1`` (the
    word, or ``2**52 - r``), and ``floor(floor(x) / d) == floor(x / d)`` for whole
    ``d``, so ``dividend // d`` is that exact value in one integer division, for any
    edge; the integer also fits numpy's uint64 for the batch path (below 2**59).
    """
    dividend = (1 - edge) * 100 * scale
    return dividend.numerator // dividend.denominator
