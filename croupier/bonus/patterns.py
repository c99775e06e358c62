"""Low-risk betting patterns that do not count toward wagering.

Betting both sides of an even bet (dice over 50 and under 50) turns bonus wagering
into a near-riskless loop: the two stakes cover almost every roll, so the player
loses only the edge while the requirement fills. A dice bet that, together with the
player's previous bet within a short window, covers all but a sliver of the
rolls is such a hedge: it settles normally but contributes nothing. The comparison is
with the previous bet, counted or not, so alternating sides (over, under, over, ...)
counts only the first bet. (That first bet was a real risk when placed.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from croupier.games.dice import Dice, DiceChoice, Direction
from croupier.games.errors import InvalidBet
from croupier.games.game import JsonValue

# Two opposite dice bets leaving at most this many of the 10,001 roll values
# uncovered (1%) are a hedge.
MAX_UNCOVERED_ROLLS = 100


@dataclass(frozen=True, slots=True)
class CountedBet:
    """A bet wagered under a bonus, as far as hedging is concerned."""

    game: str
    params: Mapping[str, JsonValue]
    placed_at: datetime


def is_hedge(previous: CountedBet | None, bet: CountedBet, window: timedelta) -> bool:
    """Whether ``bet`` covers the other side of ``previous`` within ``window``."""
    if previous is None or bet.placed_at - previous.placed_at > window:
        return False
    first, second = _dice_choice(previous), _dice_choice(bet)
    if first is None or second is None or first.direction is second.direction:
        return False
    over, under = (first, second) if first.direction is Direction.OVER else (second, first)
    # Over T wins on (T, max], under U on [0, U): the rolls from U to T win neither.
    uncovered = max(over.target_h - under.target_h + 1, 0)
    return uncovered <= MAX_UNCOVERED_ROLLS


def _dice_choice(bet: CountedBet) -> DiceChoice | None:
    if bet.game != Dice.name:
        return None
    try:
        return Dice().validate_choice(None, bet.params)
    except InvalidBet:
        return None
