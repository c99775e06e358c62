"""KYC levels and the deposit and withdrawal limits each one allows.

- 0: never verified. Small amounts only, so a new player can try the casino.
- 1: basic KYC (identity document, clean automated checks); granted automatically.
- 2: full KYC, granted by compliance staff after a manual review.
- 3: enhanced due diligence (source of funds), granted by compliance staff.

Limits are per currency in minor units over a rolling 24 hours; the withdrawal risk
step compares what the player already withdrew in that window plus the new amount.
The figures are deliberately conservative defaults for an operator to tune.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from croupier.compliance.tables import kyc_profiles
from croupier.core.errors import InvalidInput
from croupier.core.money import Currency, parse_decimal

UNVERIFIED_LEVEL = 0
AUTO_APPROVED_LEVEL = 1
MAX_KYC_LEVEL = 3


@dataclass(frozen=True, slots=True)
class KycLimits:
    level: int
    deposit_minor: Mapping[Currency, int]
    withdrawal_minor: Mapping[Currency, int]

    def __post_init__(self) -> None:
        assert set(self.deposit_minor) == set(Currency) == set(self.withdrawal_minor)

    def daily_deposit_minor(self, currency: Currency) -> int:
        return self.deposit_minor[currency]

    def daily_withdrawal_minor(self, currency: Currency) -> int:
        return self.withdrawal_minor[currency]


def _coins(eth: str, btc: str, usdt: str) -> dict[Currency, int]:
    """Whole-coin figures as exact minor units (no floats)."""
    return {
        Currency.ETH: parse_decimal(eth, Currency.ETH),
        Currency.BTC: parse_decimal(btc, Currency.BTC),
        Currency.USDT: parse_decimal(usdt, Currency.USDT),
    }


LEVEL_LIMITS: Mapping[int, KycLimits] = {
    0: KycLimits(0, _coins("1", "0.05", "2000"), _coins("0.5", "0.025", "1000")),
    1: KycLimits(1, _coins("10", "0.5", "20000"), _coins("5", "0.25", "10000")),
    2: KycLimits(2, _coins("100", "5", "200000"), _coins("50", "2.5", "100000")),
    3: KycLimits(3, _coins("1000", "50", "2000000"), _coins("500", "25", "1000000")),
}
assert sorted(LEVEL_LIMITS) == list(range(MAX_KYC_LEVEL + 1))
assert all(
    LEVEL_LIMITS[level].withdrawal_minor[currency]
    < LEVEL_LIMITS[level + 1].withdrawal_minor[currency]
    for level in range(MAX_KYC_LEVEL)
    for currency in Currency
), "each level must allow more than the one below"


def limits_for_level(level: int) -> KycLimits:
    limits = LEVEL_LIMITS.get(level)
    if limits is None:
        raise InvalidInput(f"KYC levels run from 0 to {MAX_KYC_LEVEL}, got {level}")
    return limits


def kyc_level(conn_or_engine: Connection | Engine, user_id: uuid.UUID) -> int:
    """The player's KYC level: 0 until a review grants one. One primary-key read."""
    query = select(kyc_profiles.c.level).where(kyc_profiles.c.user_id == user_id)
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            level = conn.execute(query).scalar_one_or_none()
    else:
        level = conn_or_engine.execute(query).scalar_one_or_none()
    return UNVERIFIED_LEVEL if level is None else int(level)
