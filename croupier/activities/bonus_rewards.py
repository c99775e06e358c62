"""The periodic cashback and rakeback run: one heartbeating activity over
``croupier.bonus.rewards``.

The workflow passes its own clock (``now``), so the period it pays is decided on the
clock its schedule runs on. A retry pays again from the start: players already paid are
skipped by their period row, so a retry is cheap and moves nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.bonus.errors import RewardPeriodOpen
from croupier.bonus.periods import Period, last_closed_period, period_containing
from croupier.bonus.rewards import RewardTerms, RewardTotals, pay_period
from croupier.core.settings import Settings


@dataclass(frozen=True)
class RewardsRun:
    now: datetime
    # A period to pay (any instant in it; ops re-running a missed one), or the last closed.
    period_of: datetime | None = None


@dataclass(frozen=True)
class RewardsPaid:
    """What the run paid; amounts per currency as decimal strings of minor units."""

    period_start: datetime
    period_end: datetime
    players: int
    paid_players: int
    cashback: dict[str, str]
    rakeback: dict[str, str]


class RewardActivities:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    @activity.defn(name="bonus.pay_rewards")
    @maps_business_failures
    def pay_rewards(self, run: RewardsRun) -> RewardsPaid:
        period = self._period(run)
        totals = pay_period(
            self._engine,
            period,
            RewardTerms(cashback_percent=self._settings.bonus_cashback_percent),
            now=run.now,
            progress=lambda so_far: activity.heartbeat(so_far.players),
        )
        return _paid(period, totals)

    def _period(self, run: RewardsRun) -> Period:
        length_s = self._settings.bonus_reward_period_s
        if run.period_of is None:
            return last_closed_period(run.now, length_s)
        period = period_containing(run.period_of, length_s)
        if period.end > run.now:
            raise RewardPeriodOpen(
                f"the period {period.key} ends at {period.end.isoformat()}; "
                "it is paid once it has ended"
            )
        return period


def _paid(period: Period, totals: RewardTotals) -> RewardsPaid:
    return RewardsPaid(
        period_start=period.start,
        period_end=period.end,
        players=totals.players,
        paid_players=totals.paid_players,
        cashback={currency: str(amount) for currency, amount in totals.cashback.items()},
        rakeback={currency: str(amount) for currency, amount in totals.rakeback.items()},
    )
