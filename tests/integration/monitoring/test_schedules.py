"""Workers put the reconciliation and maintenance schedules in place at start, however
many start."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import Client, ScheduleActionStartWorkflow

from croupier.core.settings import Settings
from croupier.workers.schedules import (
    MAINTENANCE_SCHEDULE_ID,
    RECONCILIATION_SCHEDULE_ID,
    ensure_schedules,
)


def idle(settings: Settings, **update: int) -> Settings:
    """Settings on a queue no worker polls: a run a schedule starts meanwhile just waits."""
    return settings.model_copy(
        update={"temporal_task_queue": f"idle-{uuid.uuid4().hex[:8]}", **update}
    )


async def test_the_schedule_is_created_once_updated_later_and_a_pause_survives(
    temporal_client: Client, settings: Settings
) -> None:
    idle_settings = idle(settings, reconciliation_interval_s=3600)
    handle = temporal_client.get_schedule_handle(RECONCILIATION_SCHEDULE_ID)
    try:
        await ensure_schedules(temporal_client, idle_settings)
        await ensure_schedules(temporal_client, idle_settings)  # a second worker starting
        await handle.pause(note="ops paused it")
        await ensure_schedules(
            temporal_client, idle_settings.model_copy(update={"reconciliation_interval_s": 600})
        )

        schedule = (await handle.describe()).schedule
    finally:
        await handle.delete()

    assert [spec.every for spec in schedule.spec.intervals] == [timedelta(seconds=600)]
    assert schedule.state.paused and schedule.state.note == "ops paused it"
    assert isinstance(schedule.action, ScheduleActionStartWorkflow)
    assert schedule.action.workflow == "Reconciliation"
    assert schedule.action.task_queue == idle_settings.temporal_task_queue


async def test_workers_schedule_ledger_maintenance_at_its_own_interval(
    temporal_client: Client, settings: Settings
) -> None:
    idle_settings = idle(settings, ledger_maintenance_interval_s=120)
    handle = temporal_client.get_schedule_handle(MAINTENANCE_SCHEDULE_ID)
    try:
        await ensure_schedules(temporal_client, idle_settings)

        schedule = (await handle.describe()).schedule
    finally:
        await handle.delete()

    assert [spec.every for spec in schedule.spec.intervals] == [timedelta(seconds=120)]
    assert isinstance(schedule.action, ScheduleActionStartWorkflow)
    assert schedule.action.workflow == "LedgerMaintenance"
    assert schedule.action.id == "ledger-maintenance"
