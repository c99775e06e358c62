"""Workers put the bonus rewards schedule in place at start, at its own interval."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, ScheduleActionStartWorkflow

from croupier.core.settings import Settings
from croupier.workers.schedules import BONUS_REWARDS_SCHEDULE_ID, ensure_schedules
from tests.integration.monitoring.test_schedules import idle


async def test_workers_schedule_the_bonus_rewards_run(
    temporal_client: Client, settings: Settings
) -> None:
    idle_settings = idle(settings, bonus_reward_interval_s=900)
    handle = temporal_client.get_schedule_handle(BONUS_REWARDS_SCHEDULE_ID)
    try:
        await ensure_schedules(temporal_client, idle_settings)
        await ensure_schedules(temporal_client, idle_settings)  # a second worker starting

        schedule = (await handle.describe()).schedule
    finally:
        await handle.delete()

    assert [spec.every for spec in schedule.spec.intervals] == [timedelta(seconds=900)]
    assert isinstance(schedule.action, ScheduleActionStartWorkflow)
    assert schedule.action.workflow == "BonusRewards"
    assert schedule.action.id == "bonus-rewards"
    assert schedule.action.task_queue == idle_settings.temporal_task_queue
