"""Responsible-gambling limits: what a player set for themselves, and the checks that
enforce it on bets and deposits.

``gambling_restrictions`` reads what is in force (a loosening still inside its 24-hour
delay is not); ``check_bet`` and ``check_deposit`` are pure and take the clock and
the player's recent totals from the caller, so the betting and payments code decide
where those come from (the ledger) and these rules stay testable on their own.

Windows are rolling: "daily" is the 24 hours before now, "weekly" 7 days, "monthly"
30 days. A loss limit refuses a bet that could take the net loss (stakes minus
payouts) in any window past the limit: ``net_loss + stake > limit``. Withdrawals are
never restricted here: a self-excluded player can always take their money out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CompoundSelect, Connection, DateTime, cast, func, null, select, union_all

from croupier.compliance.errors import (
    CoolingOff,
    DepositLimitReached,
    GamblingRestricted,
    InvalidLimit,
    LossLimitReached,
    SelfExcluded,
)
from croupier.compliance.tables import rg_exclusions, rg_limits
from croupier.core.errors import InvalidAmount
from croupier.core.money import Currency, check_minor_units, format_decimal
from croupier.ledger.schema import MinorUnits

SESSION_REMINDER_MIN_S = 5 * 60
SESSION_REMINDER_MAX_S = 24 * 3600
_KEY_RE = re.compile(r"^(deposit|loss):([A-Z]{2,10}):(daily|weekly|monthly)$")


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"

    @property
    def window(self) -> timedelta:
        return _WINDOWS[self]


_WINDOWS = {
    Period.DAILY: timedelta(days=1),
    Period.WEEKLY: timedelta(days=7),
    Period.MONTHLY: timedelta(days=30),
}


class LimitKind(StrEnum):
    DEPOSIT = "deposit"
    LOSS = "loss"
    SESSION_REMINDER = "session_reminder"


class ExclusionKind(StrEnum):
    SELF_EXCLUSION = "self_exclusion"
    COOL_OFF = "cool_off"


@dataclass(frozen=True, slots=True)
class LimitKey:
    """Which limit: an amount per currency and period, or the session reminder."""

    kind: LimitKind
    currency: Currency | None = None
    period: Period | None = None

    def __post_init__(self) -> None:
        scope = (self.currency is not None, self.period is not None)
        expected = (True, True) if self.kind is not LimitKind.SESSION_REMINDER else (False, False)
        if scope != expected:
            raise InvalidLimit(
                "deposit and loss limits name a currency and a period; the session reminder "
                "names neither"
            )

    def render(self) -> str:
        if self.kind is LimitKind.SESSION_REMINDER:
            return self.kind.value
        assert self.currency is not None and self.period is not None
        return f"{self.kind.value}:{self.currency.value}:{self.period.value}"

    @classmethod
    def parse(cls, text: str) -> LimitKey:
        if text == LimitKind.SESSION_REMINDER.value:
            return cls(LimitKind.SESSION_REMINDER)
        match = _KEY_RE.match(text)
        if match is None:
            raise InvalidLimit(f"not a limit key: {text!r}")
        return cls(LimitKind(match[1]), Currency.parse(match[2]), Period(match[3]))

    def check_value(self, value: int | None) -> None:
        """A limit's value: minor units for amounts, seconds for the reminder; None removes."""
        if value is None:
            return
        if self.kind is LimitKind.SESSION_REMINDER:
            if not SESSION_REMINDER_MIN_S <= value <= SESSION_REMINDER_MAX_S:
                raise InvalidLimit(
                    f"a session reminder comes every {SESSION_REMINDER_MIN_S // 60} minutes "
                    f"to {SESSION_REMINDER_MAX_S // 3600} hours"
                )
            return
        try:
            check_minor_units(value)
        except InvalidAmount as error:
            raise InvalidLimit(f"{self.render()}: {error}") from None


def is_loosening(current: int | None, new: int | None) -> bool:
    """Whether a change lets the player do more: a larger value, or no limit at all.

    For every kind a smaller value is stricter (a smaller amount, a reminder sooner).
    """
    if current is None:
        return False
    return new is None or new > current


@dataclass(frozen=True, slots=True)
class AmountLimit:
    currency: Currency
    period: Period
    amount_minor: int


@dataclass(frozen=True, slots=True)
class GamblingRestrictions:
    """A player's responsible-gambling state as stored; judged against a time by the checks."""

    user_id: uuid.UUID
    self_excluded_until: datetime | None
    cool_off_until: datetime | None
    deposit_limits: tuple[AmountLimit, ...]
    loss_limits: tuple[AmountLimit, ...]
    session_reminder: timedelta | None

    def deposit_periods(self, currency: Currency) -> tuple[Period, ...]:
        return tuple(limit.period for limit in self.deposit_limits if limit.currency is currency)

    def loss_periods(self, currency: Currency) -> tuple[Period, ...]:
        return tuple(limit.period for limit in self.loss_limits if limit.currency is currency)

    def blocking_exclusion(self, now: datetime) -> GamblingRestricted | None:
        """The refusal a self-exclusion or cool-off running at ``now`` gives, if any."""
        if self.self_excluded_until is not None and now < self.self_excluded_until:
            return SelfExcluded(f"self-excluded until {self.self_excluded_until.isoformat()}")
        if self.cool_off_until is not None and now < self.cool_off_until:
            return CoolingOff(f"cooling off until {self.cool_off_until.isoformat()}")
        return None


def check_bet(
    restrictions: GamblingRestrictions,
    *,
    now: datetime,
    currency: Currency,
    stake_minor: int,
    net_loss_minor: Mapping[Period, int],
) -> None:
    """Refuse a bet during an exclusion, or one that could cross a loss limit.

    ``net_loss_minor[p]``: stakes minus payouts in ``currency`` over ``[now - p.window,
    now]``, for every ``p`` in ``restrictions.loss_periods(currency)``.
    """
    check_minor_units(stake_minor)
    blocked = restrictions.blocking_exclusion(now)
    if blocked is not None:
        raise blocked
    for limit in restrictions.loss_limits:
        if limit.currency is not currency:
            continue
        if net_loss_minor[limit.period] + stake_minor > limit.amount_minor:
            raise LossLimitReached(
                f"this bet could take your {limit.period.value} losses past your limit of "
                f"{format_decimal(limit.amount_minor, currency)} {currency.value}"
            )


def check_deposit(
    restrictions: GamblingRestrictions,
    *,
    now: datetime,
    currency: Currency,
    amount_minor: int,
    deposited_minor: Mapping[Period, int],
) -> None:
    """Refuse a deposit during an exclusion, or one that would cross a deposit limit.

    ``deposited_minor[p]``: deposits credited in ``currency`` over ``[now - p.window,
    now]``, for every ``p`` in ``restrictions.deposit_periods(currency)``.
    """
    check_minor_units(amount_minor)
    blocked = restrictions.blocking_exclusion(now)
    if blocked is not None:
        raise blocked
    for limit in restrictions.deposit_limits:
        if limit.currency is not currency:
            continue
        if deposited_minor[limit.period] + amount_minor > limit.amount_minor:
            raise DepositLimitReached(
                f"this deposit would take your {limit.period.value} deposits past your limit "
                f"of {format_decimal(limit.amount_minor, currency)} {currency.value}"
            )


def limits_in_force(conn: Connection, user_id: uuid.UUID) -> dict[LimitKey, int]:
    rows = conn.execute(
        select(rg_limits.c.limit_key, rg_limits.c.value).where(rg_limits.c.user_id == user_id)
    ).all()
    return {LimitKey.parse(row.limit_key): row.value for row in rows}


def exclusions_until(conn: Connection, user_id: uuid.UUID) -> dict[ExclusionKind, datetime]:
    """The latest end of each kind of exclusion the player ever took (past ones included)."""
    rows = conn.execute(
        select(rg_exclusions.c.kind, func.max(rg_exclusions.c.ends_at))
        .where(rg_exclusions.c.user_id == user_id)
        .group_by(rg_exclusions.c.kind)
    ).all()
    return {ExclusionKind(kind): ends_at for kind, ends_at in rows}


def gambling_restrictions(conn: Connection, user_id: uuid.UUID) -> GamblingRestrictions:
    """What the bet and deposit checks need; no clock involved.

    Every bet pays for this read, so the limits and the exclusions come back in one
    statement (one round trip) rather than as ``limits_in_force`` and
    ``exclusions_until`` would read them, one each.
    """
    limits: dict[LimitKey, int] = {}
    exclusions: dict[ExclusionKind, datetime] = {}
    for row in conn.execute(_restrictions_query(user_id)):
        if row.ends_at is None:
            limits[LimitKey.parse(row.key)] = row.value
        else:
            exclusions[ExclusionKind(row.key)] = row.ends_at
    reminder_s = limits.get(LimitKey(LimitKind.SESSION_REMINDER))
    return GamblingRestrictions(
        user_id=user_id,
        self_excluded_until=exclusions.get(ExclusionKind.SELF_EXCLUSION),
        cool_off_until=exclusions.get(ExclusionKind.COOL_OFF),
        deposit_limits=_amount_limits(limits, LimitKind.DEPOSIT),
        loss_limits=_amount_limits(limits, LimitKind.LOSS),
        session_reminder=None if reminder_s is None else timedelta(seconds=reminder_s),
    )


def _restrictions_query(
    user_id: uuid.UUID,
) -> CompoundSelect[tuple[str, int | None, datetime | None]]:
    """The player's limits (``ends_at`` null) and the latest end of each kind of
    exclusion they took (``value`` null), as ``key, value, ends_at`` rows."""
    limit_rows = select(
        rg_limits.c.limit_key.label("key"),
        rg_limits.c.value.label("value"),
        cast(null(), DateTime(timezone=True)).label("ends_at"),
    ).where(rg_limits.c.user_id == user_id)
    exclusion_rows = (
        select(
            rg_exclusions.c.kind,
            cast(null(), MinorUnits),
            func.max(rg_exclusions.c.ends_at),
        )
        .where(rg_exclusions.c.user_id == user_id)
        .group_by(rg_exclusions.c.kind)
    )
    return union_all(limit_rows, exclusion_rows)


def _amount_limits(limits: Mapping[LimitKey, int], kind: LimitKind) -> tuple[AmountLimit, ...]:
    found = []
    for key, value in sorted(limits.items(), key=lambda item: item[0].render()):
        if key.kind is kind:
            assert key.currency is not None and key.period is not None
            found.append(AmountLimit(key.currency, key.period, value))
    return tuple(found)
