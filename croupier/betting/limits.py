"""The table rules a stake must meet, shared by the API (checked against live settings
before anything starts) and the session workflow's validators (checked again against
the rules the session runs with)."""

from __future__ import annotations

from collections.abc import Collection

from croupier.betting.errors import BetAboveMaximum, GameDisabled
from croupier.core.money import Currency, parse_minor_units


def check_stake(
    game: str, amount: str, currency: Currency, *, max_bet: int, games_enabled: Collection[str]
) -> int:
    """The stake in minor units, or the refusal: game not offered, amount not a positive
    whole number of minor units, or above the currency's maximum bet."""
    if game not in games_enabled:
        raise GameDisabled(f"{game} is not offered at the moment")
    stake = parse_minor_units(amount)
    if stake > max_bet:
        raise BetAboveMaximum(
            f"the maximum bet in {currency.value} is {max_bet} minor units; got {stake}"
        )
    return stake
