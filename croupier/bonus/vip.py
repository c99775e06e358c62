"""The VIP ladder: lifetime wagered volume raises the rakeback a player earns.

Like the offers, the ladder is code (a rule that moves money is reviewed and versioned).
Volumes in different currencies are not comparable without a price, so each currency has
its own ladder and a player climbs each separately; the rungs' volumes are whole coins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from croupier.bonus.rules import VipLevel
from croupier.core.money import Currency, parse_decimal

# Rakeback percent of the house edge at levels 0-4.
RAKEBACK_PERCENTS = (5, 10, 15, 20, 25)
# Lifetime volume (whole coins) at which each level starts.
_THRESHOLDS: Mapping[Currency, tuple[str, ...]] = MappingProxyType(
    {
        Currency.ETH: ("0", "10", "100", "1000", "10000"),
        Currency.BTC: ("0", "0.5", "5", "50", "500"),
        Currency.USDT: ("0", "25000", "250000", "2500000", "25000000"),
    }
)


def ladder(currency: Currency) -> Sequence[VipLevel]:
    """The rungs for ``currency``, lowest first, in minor units."""
    return tuple(
        VipLevel(level, parse_decimal(volume, currency, allow_zero=True), percent)
        for level, (volume, percent) in enumerate(
            zip(_THRESHOLDS[currency], RAKEBACK_PERCENTS, strict=True)
        )
    )


def next_level(current: VipLevel, currency: Currency) -> VipLevel | None:
    """The rung above ``current``, or None at the top."""
    above = [rung for rung in ladder(currency) if rung.level == current.level + 1]
    return above[0] if above else None
