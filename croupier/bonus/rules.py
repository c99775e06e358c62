"""Bonus arithmetic: exact integer and ``Fraction`` math on int minor units.

Every rate is a whole percent or a ``Fraction``; every amount an ``int``. Where a
division leaves a remainder, it falls to the house side (a player is never paid a
fraction of a minor unit the arithmetic did not earn).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

from croupier.bonus.errors import BonusMaxBetExceeded
from croupier.core.errors import InvalidInput
from croupier.core.money import check_minor_units

# A wagering requirement beyond this many times the bonus is a typo, not an offer.
MAX_WAGERING_MULTIPLE = 200
MAX_EXPIRY_S = 365 * 86400


@dataclass(frozen=True, slots=True)
class WageringTerms:
    """The rules a granted bonus is wagered under, fixed when it is claimed.

    ``game_weights`` are whole percents of a stake that count toward the requirement
    (dice 100, crash 50); a game left out counts nothing. ``max_conversion`` caps what
    moves to cash when wagering completes (None: no cap).
    """

    multiple: int
    max_bet: int
    max_conversion: int | None
    expires_after_s: int
    game_weights: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _is_int(self.multiple) or not 0 <= self.multiple <= MAX_WAGERING_MULTIPLE:
            raise InvalidInput(f"wagering multiple must be 0-{MAX_WAGERING_MULTIPLE}")
        check_minor_units(self.max_bet)
        if self.max_conversion is not None:
            check_minor_units(self.max_conversion)
        if not _is_int(self.expires_after_s) or not 1 <= self.expires_after_s <= MAX_EXPIRY_S:
            raise InvalidInput(f"bonus expiry must be 1-{MAX_EXPIRY_S} seconds")
        for game, weight in self.game_weights.items():
            if not _is_int(weight) or not 0 <= weight <= 100:
                raise InvalidInput(f"the wagering weight of {game} must be 0-100 percent")
        object.__setattr__(self, "game_weights", MappingProxyType(dict(self.game_weights)))

    def requirement(self, bonus_amount: int) -> int:
        """What must be wagered (after weights) before the bonus converts."""
        return bonus_amount * self.multiple

    def contribution(self, game: str, stake: int) -> int:
        """The part of ``stake`` that counts toward the requirement."""
        return stake * self.game_weights.get(game, 0) // 100


def check_max_bet(stake: int, max_bet: int) -> None:
    """While a bonus is wagered, no stake may exceed its max bet."""
    if stake > max_bet:
        raise BonusMaxBetExceeded(
            f"while your bonus is wagered the maximum bet is {max_bet} minor units; got {stake}"
        )


@dataclass(frozen=True, slots=True)
class StakeSplit:
    """Where a stake comes from and where its payout goes: cash first, then bonus; the
    payout returns in the stake's proportions (the bonus part stays bonus money)."""

    stake_cash: int
    stake_bonus: int
    payout_cash: int
    payout_bonus: int


def split_stake(stake: int, payout: int, *, cash_available: int) -> StakeSplit:
    """Spend cash first, then bonus; pay the win back pro rata, the rounding to cash.

    A win on a stake that was 30% bonus pays 30% (rounded down) to the bonus balance,
    where it stays under wagering, and the rest to cash.
    """
    check_minor_units(stake)
    check_minor_units(payout, allow_zero=True)
    stake_cash = min(stake, max(cash_available, 0))
    stake_bonus = stake - stake_cash
    payout_bonus = payout * stake_bonus // stake
    return StakeSplit(stake_cash, stake_bonus, payout - payout_bonus, payout_bonus)


@dataclass(frozen=True, slots=True)
class Conversion:
    """A completed bonus: ``to_cash`` moves to the player's cash, ``to_house`` (above
    the max conversion) returns to promotions."""

    to_cash: int
    to_house: int


def convert(bonus_balance: int, max_conversion: int | None) -> Conversion:
    check_minor_units(bonus_balance, allow_zero=True)
    to_cash = bonus_balance if max_conversion is None else min(bonus_balance, max_conversion)
    return Conversion(to_cash, bonus_balance - to_cash)


def deposit_match(deposit: int, percent: int, cap: int) -> int:
    """``percent`` of the deposit, at most ``cap``."""
    check_minor_units(deposit)
    if not _is_int(percent) or not 1 <= percent <= 1000:
        raise InvalidInput("a deposit match is 1-1000 percent")
    return min(deposit * percent // 100, cap)


def cashback(net_loss: int, percent: int) -> int:
    """``percent`` of a period's net loss; nothing when the player won."""
    if not _is_int(percent) or not 0 <= percent <= 100:
        raise InvalidInput("cashback is 0-100 percent")
    return max(net_loss, 0) * percent // 100


def rakeback(wagered: int, house_edge: Fraction, percent: int) -> int:
    """``percent`` of the house's expected take on ``wagered`` (its edge times volume)."""
    if not 0 <= house_edge < 1:
        raise InvalidInput("a house edge is a fraction from 0 to 1")
    if not _is_int(percent) or not 0 <= percent <= 100:
        raise InvalidInput("rakeback is 0-100 percent")
    expected_take = house_edge * max(wagered, 0)
    return int(expected_take * percent / 100)


@dataclass(frozen=True, slots=True)
class VipLevel:
    """Reached at ``min_wagered`` lifetime volume; pays ``rakeback_percent``."""

    level: int
    min_wagered: int
    rakeback_percent: int


def vip_level(lifetime_wagered: int, ladder: Sequence[VipLevel]) -> VipLevel:
    """The highest rung of ``ladder`` (sorted by ``min_wagered``) the volume reaches."""
    reached = [rung for rung in ladder if lifetime_wagered >= rung.min_wagered]
    if not reached:
        raise InvalidInput("a VIP ladder starts at zero volume")
    return max(reached, key=lambda rung: rung.min_wagered)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
