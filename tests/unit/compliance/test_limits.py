"""Responsible-gambling checks: exclusions block bets and deposits, limits cap them, and
a change that loosens a limit is told apart from one that tightens it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.compliance.errors import (
    CoolingOff,
    DepositLimitReached,
    InvalidLimit,
    LossLimitReached,
    SelfExcluded,
)
from croupier.compliance.exclusions import exclusion_duration
from croupier.compliance.limits import (
    AmountLimit,
    ExclusionKind,
    GamblingRestrictions,
    LimitKey,
    LimitKind,
    Period,
    check_bet,
    check_deposit,
    is_loosening,
)
from croupier.core.money import Currency

NOW = datetime(2025, 6, 15, 12, tzinfo=UTC)
ETH = Currency.ETH
NONE = GamblingRestrictions(uuid.uuid4(), None, None, (), (), None)


def restricted(**fields: object) -> GamblingRestrictions:
    base = {
        "user_id": NONE.user_id,
        "self_excluded_until": None,
        "cool_off_until": None,
        "deposit_limits": (),
        "loss_limits": (),
        "session_reminder": None,
    }
    return GamblingRestrictions(**{**base, **fields})  # type: ignore[arg-type]


def bet(restrictions: GamblingRestrictions, stake: int = 10, **losses: int) -> None:
    check_bet(
        restrictions,
        now=NOW,
        currency=ETH,
        stake_minor=stake,
        net_loss_minor={Period(name): amount for name, amount in losses.items()},
    )


def deposit(restrictions: GamblingRestrictions, amount: int = 10, **deposited: int) -> None:
    check_deposit(
        restrictions,
        now=NOW,
        currency=ETH,
        amount_minor=amount,
        deposited_minor={Period(name): total for name, total in deposited.items()},
    )


def test_an_unrestricted_player_may_bet_and_deposit() -> None:
    bet(NONE)
    deposit(NONE)


def test_a_self_excluded_player_can_neither_bet_nor_deposit_until_it_ends() -> None:
    excluded = restricted(self_excluded_until=NOW + timedelta(days=180))
    ended = restricted(self_excluded_until=NOW)

    with pytest.raises(SelfExcluded):
        bet(excluded)
    with pytest.raises(SelfExcluded):
        deposit(excluded)
    bet(ended)
    deposit(ended)


def test_a_cooling_off_player_can_neither_bet_nor_deposit() -> None:
    cooling = restricted(cool_off_until=NOW + timedelta(seconds=1))
    with pytest.raises(CoolingOff):
        bet(cooling)
    with pytest.raises(CoolingOff):
        deposit(cooling)


def test_self_exclusion_is_the_reason_given_when_both_run() -> None:
    both = restricted(
        self_excluded_until=NOW + timedelta(days=200), cool_off_until=NOW + timedelta(days=1)
    )
    with pytest.raises(SelfExcluded):
        bet(both)


def test_a_bet_that_could_cross_the_loss_limit_is_refused() -> None:
    limited = restricted(loss_limits=(AmountLimit(ETH, Period.DAILY, 100),))

    bet(limited, stake=40, daily=60)  # could reach exactly the limit
    with pytest.raises(LossLimitReached, match="daily"):
        bet(limited, stake=41, daily=60)
    bet(limited, stake=100, daily=-500)  # winnings make room


def test_every_period_with_a_limit_is_checked_and_other_currencies_ignored() -> None:
    limited = restricted(
        loss_limits=(
            AmountLimit(ETH, Period.DAILY, 1000),
            AmountLimit(ETH, Period.MONTHLY, 500),
            AmountLimit(Currency.BTC, Period.DAILY, 1),
        )
    )
    assert limited.loss_periods(ETH) == (Period.DAILY, Period.MONTHLY)
    with pytest.raises(LossLimitReached, match="monthly"):
        bet(limited, stake=10, daily=0, monthly=495)


def test_a_deposit_past_the_deposit_limit_is_refused() -> None:
    limited = restricted(deposit_limits=(AmountLimit(ETH, Period.WEEKLY, 1000),))

    deposit(limited, amount=400, weekly=600)
    with pytest.raises(DepositLimitReached, match="weekly"):
        deposit(limited, amount=401, weekly=600)


def test_a_missing_total_for_a_limited_period_is_a_programming_error() -> None:
    limited = restricted(loss_limits=(AmountLimit(ETH, Period.WEEKLY, 1000),))
    with pytest.raises(KeyError):
        bet(limited, daily=0)


@given(st.none() | st.integers(1, 10**30), st.none() | st.integers(1, 10**30))
def test_only_a_larger_value_or_removing_a_limit_loosens_it(
    current: int | None, new: int | None
) -> None:
    expected = current is not None and (new is None or new > current)
    assert is_loosening(current, new) is expected


@given(
    st.sampled_from([LimitKind.DEPOSIT, LimitKind.LOSS]),
    st.sampled_from(list(Currency)),
    st.sampled_from(list(Period)),
)
def test_limit_keys_round_trip_through_their_text(
    kind: LimitKind, currency: Currency, period: Period
) -> None:
    key = LimitKey(kind, currency, period)
    assert LimitKey.parse(key.render()) == key


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (LimitKey(LimitKind.DEPOSIT, ETH, Period.DAILY), 0),
        (LimitKey(LimitKind.SESSION_REMINDER), 60),
        (LimitKey(LimitKind.SESSION_REMINDER), 25 * 3600),
    ],
)
def test_values_outside_their_range_are_refused(key: LimitKey, value: int) -> None:
    with pytest.raises(InvalidLimit):
        key.check_value(value)


def test_a_session_reminder_has_no_currency_and_an_amount_limit_needs_one() -> None:
    with pytest.raises(InvalidLimit):
        LimitKey(LimitKind.SESSION_REMINDER, ETH, Period.DAILY)
    with pytest.raises(InvalidLimit):
        LimitKey(LimitKind.LOSS, ETH)


@pytest.mark.parametrize(
    ("kind", "days", "allowed"),
    [
        (ExclusionKind.COOL_OFF, 1, True),
        (ExclusionKind.COOL_OFF, 42, True),
        (ExclusionKind.COOL_OFF, 43, False),
        (ExclusionKind.SELF_EXCLUSION, 179, False),
        (ExclusionKind.SELF_EXCLUSION, 180, True),
        (ExclusionKind.SELF_EXCLUSION, 1826, False),
    ],
)
def test_exclusions_last_within_their_ranges(kind: ExclusionKind, days: int, allowed: bool) -> None:
    if allowed:
        assert exclusion_duration(kind, days) == timedelta(days=days)
    else:
        with pytest.raises(InvalidLimit):
            exclusion_duration(kind, days)
