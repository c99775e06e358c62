"""Workers put the reconciliation schedule in place at start, however many start."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import Client, ScheduleActionStartWorkflow

from croupier.core.settings import Settings
from croupier.workers.schedules import RECONCILIATION_SCHEDULE_ID, ensure_schedules


async def test_the_schedule_is_created_once_updated_later_and_a_pause_survives(
    temporal_client: Client, settings: Settings
) -> None:
    # A queue no worker polls: a run the schedule starts meanwhile just waits.
    idle = settings.model_copy(
        update={
            "temporal_task_queue": f"idle-{uuid.uuid4().hex[:8]}",
            "reconciliation_interval_s": 3600,
        }
    )
    handle = temporal_client.get_schedule_handle(RECONCILIATION_SCHEDULE_ID)
    try:
        await ensure_schedules(temporal_client, idle)
        await ensure_schedules(temporal_client, idle)  # a second worker starting
        await handle.pause(note="ops paused it")
        await ensure_schedules(
            temporal_client, idle.model_copy(update={"reconciliation_interval_s": 600})
        )

        schedule = (await handle.describe()).schedule
    finally:
        await handle.delete()

    assert [spec.every for spec in schedule.spec.intervals] == [timedelta(seconds=600)]
    assert schedule.state.paused and schedule.state.note == "ops paused it"
    assert isinstance(schedule.action, ScheduleActionStartWorkflow)
    assert schedule.action.workflow == "Reconciliation"
    assert schedule.action.task_queue == idle.temporal_task_queue
