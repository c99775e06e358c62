"""Bonus rewards: pay the last closed period's cashback and rakeback.

Started by a Temporal Schedule of its own (``BONUS_REWARDS_SCHEDULE_ID``, every
``CROUPIER_BONUS_REWARD_INTERVAL_S``; see ``croupier.workers.schedules``). Each run pays
the latest period that has ended (``CROUPIER_BONUS_REWARD_PERIOD_S``, weekly by
default); runs between two period ends find everyone paid and move nothing, which is
what makes a missed run harmless: the next one pays. Ops re-run an older period by
starting the workflow with ``period_of`` (any instant in that period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.bonus_rewards import RewardActivities, RewardsPaid, RewardsRun
    from croupier.workflows import search_attributes as keys

BONUS_REWARDS_WORKFLOW_ID = "bonus-rewards"
FLOW = "bonus-rewards"
# One activity walks every player of the period; it heartbeats after each.
RUN_TIMEOUT = timedelta(hours=2)
HEARTBEAT_TIMEOUT = timedelta(minutes=2)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=10,
)


@dataclass(frozen=True)
class RewardsInput:
    period_of: datetime | None = None


@workflow.defn(name="BonusRewards")
class BonusRewardsWorkflow:
    @workflow.run
    async def run(self, request: RewardsInput) -> RewardsPaid:
        workflow.upsert_search_attributes([keys.FLOW.value_set(FLOW)])
        paid = await workflow.execute_activity_method(
            RewardActivities.pay_rewards,
            RewardsRun(now=workflow.now(), period_of=request.period_of),
            start_to_close_timeout=RUN_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RETRY,
        )
        workflow.set_current_details(
            f"period {paid.period_start.isoformat()} to {paid.period_end.isoformat()}: "
            f"{paid.paid_players} of {paid.players} players paid; "
            f"cashback {paid.cashback}, rakeback {paid.rakeback} (minor units)"
        )
        return paid
