"""Withdrawal velocity policy: pure rules over the withdrawal requests of a sliding window.

A mass withdrawal (a leaked hot-wallet credential being drained through player
accounts, a bonus exploit cashing out, a run on the casino) shows up first as more
withdrawals, or more money leaving, than usual in a short time, and often from
accounts created days before. The rules count requests and sum amounts per currency
over the last ``window_s`` seconds, once over everyone and once over accounts younger
than ``new_account_age_s``. Any rule over its limit is a breach; the breaker trips.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from croupier.core.errors import InvalidInput
from croupier.core.money import Currency, check_minor_units, format_decimal, parse_decimal
from croupier.core.settings import Settings

MAX_WINDOW_S = 7 * 24 * 3600
MAX_COUNT_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True)
class WithdrawalSeen:
    """A withdrawal request as the breaker sees it (payments builds one per request)."""

    withdrawal_id: str
    player_id: str
    currency: Currency
    amount: int  # minor units
    requested_at: datetime
    # When the player's account was created: young accounts have tighter limits.
    player_since: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", Currency.parse(self.currency))
        check_minor_units(self.amount)
        if not 1 <= len(self.withdrawal_id) <= 255 or not 1 <= len(self.player_id) <= 255:
            raise InvalidInput("withdrawal and player ids must be 1-255 characters")
        if self.requested_at.tzinfo is None or self.player_since.tzinfo is None:
            raise InvalidInput("withdrawal times must be timezone-aware")

    def from_new_account(self, new_account_age_s: int) -> bool:
        return self.requested_at - self.player_since < timedelta(seconds=new_account_age_s)


@dataclass(frozen=True, slots=True)
class Breach:
    """One rule over its limit. ``currency`` is set for amount rules."""

    rule: str
    observed: int
    limit: int
    currency: Currency | None = None

    def describe(self) -> str:
        if self.currency is None:
            return f"{self.rule}: {self.observed} requests (limit {self.limit})"
        observed = format_decimal(self.observed, self.currency)
        limit = format_decimal(self.limit, self.currency)
        return f"{self.rule}: {observed} {self.currency.value} (limit {limit})"

    def to_json(self) -> dict[str, str | None]:
        return {
            "rule": self.rule,
            "observed": str(self.observed),
            "limit": str(self.limit),
            "currency": None if self.currency is None else self.currency.value,
        }


@dataclass(frozen=True, slots=True)
class VelocityPolicy:
    window_s: int
    max_requests: int
    max_amounts: Mapping[Currency, int] = field(default_factory=dict)
    new_account_age_s: int = 0
    max_new_account_requests: int = MAX_COUNT_LIMIT
    max_new_account_amounts: Mapping[Currency, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.window_s <= MAX_WINDOW_S:
            raise InvalidInput(f"the velocity window must be 1..{MAX_WINDOW_S} s")
        for count in (self.max_requests, self.max_new_account_requests):
            if not 1 <= count <= MAX_COUNT_LIMIT:
                raise InvalidInput(f"request limits must be 1..{MAX_COUNT_LIMIT}")
        if not 0 <= self.new_account_age_s <= 365 * 24 * 3600:
            raise InvalidInput("the new-account age must be 0..1 year in seconds")
        for amounts in (self.max_amounts, self.max_new_account_amounts):
            for amount in amounts.values():
                check_minor_units(amount)
        object.__setattr__(self, "max_amounts", MappingProxyType(dict(self.max_amounts)))
        object.__setattr__(
            self, "max_new_account_amounts", MappingProxyType(dict(self.max_new_account_amounts))
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> VelocityPolicy:
        return cls(
            window_s=settings.withdrawal_breaker_window_s,
            max_requests=settings.withdrawal_breaker_max_requests,
            max_amounts=_minor_units(settings.withdrawal_breaker_max_amounts),
            new_account_age_s=settings.withdrawal_breaker_new_account_age_s,
            max_new_account_requests=settings.withdrawal_breaker_max_new_account_requests,
            max_new_account_amounts=_minor_units(
                settings.withdrawal_breaker_max_new_account_amounts
            ),
        )

    def window_start(self, now: datetime, resumed_at: datetime | None) -> datetime:
        """Requests before a staff resume were reviewed then; they never re-trip it."""
        start = now - timedelta(seconds=self.window_s)
        return start if resumed_at is None else max(start, resumed_at)

    def breaches(self, requests: Iterable[WithdrawalSeen]) -> list[Breach]:
        """Every rule the given requests (already limited to the window) break."""
        seen = list(requests)
        young = [r for r in seen if r.from_new_account(self.new_account_age_s)]
        return [
            *_rules("requests", "amount", seen, self.max_requests, self.max_amounts),
            *_rules(
                "new_account_requests",
                "new_account_amount",
                young,
                self.max_new_account_requests,
                self.max_new_account_amounts,
            ),
        ]


def _rules(
    count_rule: str,
    amount_rule: str,
    requests: list[WithdrawalSeen],
    max_requests: int,
    max_amounts: Mapping[Currency, int],
) -> list[Breach]:
    breaches = []
    if len(requests) > max_requests:
        breaches.append(Breach(count_rule, len(requests), max_requests))
    totals: dict[Currency, int] = {}
    for request in requests:
        totals[request.currency] = totals.get(request.currency, 0) + request.amount
    for currency in sorted(totals):
        limit = max_amounts.get(currency)
        if limit is not None and totals[currency] > limit:
            breaches.append(Breach(amount_rule, totals[currency], limit, currency))
    return breaches


def _minor_units(whole_coins: Mapping[str, str]) -> dict[Currency, int]:
    """Settings hold whole-coin decimals per ticker; limits are exact minor units."""
    amounts = {}
    for code, text in whole_coins.items():
        currency = Currency.parse(code)
        amounts[currency] = parse_decimal(text, currency)
    return amounts
