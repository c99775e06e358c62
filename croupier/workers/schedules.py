"""Temporal Schedules the workers keep in place: created at worker start, idempotently.

Every worker calls ``ensure_schedules`` when it starts. The first creates each schedule;
the others find it and update its action and interval to their settings, keeping its
state, so a schedule ops paused (``temporal schedule toggle --pause``) stays paused.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from croupier.core.settings import Settings
from croupier.workers.logs import get_logger
from croupier.workflows import search_attributes as keys
from croupier.workflows.reconciliation import (
    FLOW,
    RECONCILIATION_WORKFLOW_ID,
    ReconciliationInput,
    ReconciliationWorkflow,
)

log = get_logger(__name__)

RECONCILIATION_SCHEDULE_ID = "reconciliation"


def reconciliation_schedule(settings: Settings) -> Schedule:
    """Every ``reconciliation_interval_s``; a run still going when the next is due makes
    the next one skip, and runs missed while Temporal was down are not replayed (one
    fresh run proves as much as a backlog of them)."""
    interval = timedelta(seconds=settings.reconciliation_interval_s)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ReconciliationWorkflow.run,
            ReconciliationInput(),
            id=RECONCILIATION_WORKFLOW_ID,
            task_queue=settings.temporal_task_queue,
            execution_timeout=max(interval * 4, timedelta(hours=1)),
            typed_search_attributes=TypedSearchAttributes([SearchAttributePair(keys.FLOW, FLOW)]),
            static_summary="Scheduled reconciliation: ledger, wallets vs chain, drift, outcomes",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=interval),
    )


async def ensure_schedules(client: Client, settings: Settings) -> None:
    desired = reconciliation_schedule(settings)
    try:
        await client.create_schedule(RECONCILIATION_SCHEDULE_ID, desired)
        log.info("schedule created", schedule_id=RECONCILIATION_SCHEDULE_ID)
        return
    except ScheduleAlreadyRunningError:
        pass

    def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=replace(desired, state=current.description.schedule.state))

    await client.get_schedule_handle(RECONCILIATION_SCHEDULE_ID).update(keep_state)
    log.info("schedule updated", schedule_id=RECONCILIATION_SCHEDULE_ID)
