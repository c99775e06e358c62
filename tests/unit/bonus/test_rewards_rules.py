"""Reward periods and what a period's play earns: exact, pure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from croupier.bonus.periods import last_closed_period, period_containing
from croupier.bonus.rewards import PeriodPlay, RewardTerms, earned
from croupier.core.errors import InvalidInput
from croupier.core.money import Currency

WEEK_S = 7 * 86400
WEI = 10**18


def test_weekly_periods_run_monday_to_monday_utc() -> None:
    wednesday = datetime(2025, 3, 5, 15, 30, tzinfo=UTC)

    period = period_containing(wednesday, WEEK_S)
    closed = last_closed_period(wednesday, WEEK_S)

    assert (period.start, period.end) == (
        datetime(2025, 3, 3, tzinfo=UTC),
        datetime(2025, 3, 10, tzinfo=UTC),
    )
    assert period.start.weekday() == 0
    assert (closed.start, closed.end) == (period.start - timedelta(weeks=1), period.start)
    assert period.key == "20250303T000000Z"
    assert last_closed_period(period.start, WEEK_S) == closed  # the boundary closes it
    with pytest.raises(InvalidInput):
        period_containing(datetime(2025, 3, 5), WEEK_S)  # naive


def test_a_period_earns_cashback_on_the_loss_and_rakeback_at_the_level_its_volume_reaches() -> None:
    play = PeriodPlay(uuid.uuid4(), Currency.ETH, {"dice": 3 * WEI, "limbo": 1 * WEI}, 3 * WEI)
    winner = PeriodPlay(uuid.uuid4(), Currency.ETH, {"dice": 1000}, 1500)
    terms = RewardTerms(cashback_percent=10)

    at_level_0 = earned(play, lifetime_before=0, terms=terms)
    at_level_1 = earned(play, lifetime_before=6 * WEI, terms=terms)  # reaches 10 ETH

    assert at_level_0.cashback == at_level_1.cashback == WEI // 10
    assert (at_level_0.level.level, at_level_0.rakeback) == (0, 4 * WEI // 100 * 5 // 100)
    assert (at_level_1.level.level, at_level_1.rakeback) == (1, 4 * WEI // 100 * 10 // 100)
    assert earned(winner, 0, terms).cashback == 0
