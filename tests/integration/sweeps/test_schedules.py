"""Workers put the treasury's schedules in place at start, however many start: the
sweep and the consolidation of each chain, alongside reconciliation."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.service import RPCError

from croupier.core.settings import Settings
from croupier.workers.schedules import (
    consolidation_schedule_id,
    desired_schedules,
    ensure_schedules,
    sweep_schedule_id,
)


async def test_the_treasury_schedules_are_created_once_updated_later_and_a_pause_survives(
    temporal_client: Client, settings: Settings
) -> None:
    # A queue no worker polls: a run a schedule starts meanwhile just waits.
    idle = settings.model_copy(
        update={
            "temporal_task_queue": f"idle-{uuid.uuid4().hex[:8]}",
            "treasury_sweep_interval_s": 3600,
            "treasury_consolidation_interval_s": 7200,
        }
    )
    sweep = temporal_client.get_schedule_handle(sweep_schedule_id("ethereum"))
    consolidation = temporal_client.get_schedule_handle(consolidation_schedule_id("ethereum"))
    try:
        await ensure_schedules(temporal_client, idle)
        await ensure_schedules(temporal_client, idle)  # a second worker starting
        await sweep.pause(note="ops paused sweeps")
        await ensure_schedules(
            temporal_client, idle.model_copy(update={"treasury_sweep_interval_s": 600})
        )
        swept = (await sweep.describe()).schedule
        consolidated = (await consolidation.describe()).schedule
    finally:
        for schedule_id in desired_schedules(idle):
            with contextlib.suppress(RPCError):
                await temporal_client.get_schedule_handle(schedule_id).delete()

    assert [spec.every for spec in swept.spec.intervals] == [timedelta(seconds=600)]
    assert swept.state.paused and swept.state.note == "ops paused sweeps"
    assert [spec.every for spec in consolidated.spec.intervals] == [timedelta(seconds=7200)]
    assert not consolidated.state.paused
    for schedule, workflow_type in ((swept, "Sweep"), (consolidated, "Consolidation")):
        assert isinstance(schedule.action, ScheduleActionStartWorkflow)
        assert schedule.action.workflow == workflow_type
        assert schedule.action.task_queue == idle.temporal_task_queue


def test_bitcoin_is_swept_and_consolidated_only_where_a_node_is_configured(
    settings: Settings,
) -> None:
    without_node = settings.model_copy(update={"btc_rpc_url": None})
    with_node = settings.model_copy(update={"btc_rpc_url": "http://127.0.0.1:18443"})

    assert sweep_schedule_id("bitcoin") not in desired_schedules(without_node)
    schedules = desired_schedules(with_node)
    for schedule_id, chain in (
        (sweep_schedule_id("bitcoin"), "bitcoin"),
        (consolidation_schedule_id("bitcoin"), "bitcoin"),
        (sweep_schedule_id("ethereum"), "ethereum"),
    ):
        action = schedules[schedule_id].action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.args[0].chain == chain  # type: ignore[attr-defined]
    assert sweep_schedule_id("bitcoin") == "treasury-sweep-btc"
