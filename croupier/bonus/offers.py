"""The bonus offers the casino runs, and the terms a claim snapshots from them.

Offers are code (reviewed and versioned like any rule that moves money); the game
weights come from settings so ops can tune them. A claimed bonus keeps the terms it
was claimed under: changing an offer never changes a running bonus.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from croupier.bonus.errors import UnknownOffer
from croupier.bonus.rules import WageringTerms
from croupier.core.money import Currency, parse_decimal

DAY_S = 86400


class BonusKind(StrEnum):
    DEPOSIT_MATCH = "deposit_match"  # granted when a qualifying deposit is credited
    FREE_BET = "free_bet"  # granted at once


@dataclass(frozen=True, slots=True)
class OfferAmounts:
    """Whole coins, as decimal strings: the match cap (or free bet credit), the max bet
    while wagering, the max conversion to cash, the smallest qualifying deposit."""

    amount: str
    max_bet: str
    max_conversion: str
    min_deposit: str = "0"


@dataclass(frozen=True, slots=True)
class Offer:
    code: str
    kind: BonusKind
    title: str
    welcome: bool
    multiple: int
    expires_after_s: int
    amounts: Mapping[str, OfferAmounts]
    match_percent: int = 0
    # A deposit match waits this long for its qualifying deposit.
    deposit_window_s: int = 7 * DAY_S

    def limits(self, currency: Currency) -> OfferAmounts:
        found = self.amounts.get(currency.value)
        if found is None:
            raise UnknownOffer(f"offer {self.code} is not available in {currency.value}")
        return found

    def amount(self, currency: Currency) -> int:
        """The free bet credit, or the deposit match's cap, in minor units."""
        return parse_decimal(self.limits(currency).amount, currency)

    def min_deposit(self, currency: Currency) -> int:
        return parse_decimal(self.limits(currency).min_deposit, currency, allow_zero=True)

    def terms(self, currency: Currency, game_weights: Mapping[str, int]) -> WageringTerms:
        limits = self.limits(currency)
        return WageringTerms(
            multiple=self.multiple,
            max_bet=parse_decimal(limits.max_bet, currency),
            max_conversion=parse_decimal(limits.max_conversion, currency),
            expires_after_s=self.expires_after_s,
            game_weights=game_weights,
        )


OFFERS: Mapping[str, Offer] = MappingProxyType(
    {
        offer.code: offer
        for offer in (
            Offer(
                code="welcome-match",
                kind=BonusKind.DEPOSIT_MATCH,
                title="Welcome: 100% of your first deposit",
                welcome=True,
                match_percent=100,
                multiple=30,
                expires_after_s=30 * DAY_S,
                amounts={
                    "ETH": OfferAmounts("1", "0.05", "2", min_deposit="0.01"),
                    "BTC": OfferAmounts("0.05", "0.0025", "0.1", min_deposit="0.0005"),
                    "USDT": OfferAmounts("1000", "50", "2000", min_deposit="20"),
                },
            ),
            Offer(
                code="free-bet",
                kind=BonusKind.FREE_BET,
                title="A free bet credit",
                welcome=False,
                multiple=1,
                expires_after_s=7 * DAY_S,
                amounts={
                    "ETH": OfferAmounts("0.005", "0.005", "0.05"),
                    "BTC": OfferAmounts("0.0002", "0.0002", "0.002"),
                    "USDT": OfferAmounts("10", "10", "100"),
                },
            ),
        )
    }
)


def offer_named(code: str) -> Offer:
    try:
        return OFFERS[code]
    except KeyError:
        raise UnknownOffer(f"no bonus offer {code!r}; offered: {', '.join(OFFERS)}") from None
