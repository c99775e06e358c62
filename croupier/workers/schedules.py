"""Temporal Schedules the workers keep in place: created at worker start, idempotently.

Reconciliation, ledger maintenance (expiring holds, creating partitions), bonus rewards
(cashback and rakeback of the last closed period), and per chain the treasury's Sweep
(hot -> cold, refills when low) and Consolidation (deposit addresses -> hot).

Every worker calls ``ensure_schedules`` when it starts. The first creates each schedule;
the others find it and update its action and interval to their settings, keeping its
state, so a schedule ops paused (``temporal schedule toggle --pause``) stays paused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

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
from croupier.sweeps.keys import consolidation_workflow_id, sweep_workflow_id
from croupier.workers.logs import get_logger
from croupier.workflows import search_attributes as keys
from croupier.workflows.bonus_rewards import (
    BONUS_REWARDS_WORKFLOW_ID,
    BonusRewardsWorkflow,
    RewardsInput,
)
from croupier.workflows.bonus_rewards import FLOW as BONUS_REWARDS_FLOW
from croupier.workflows.consolidation import FLOW as CONSOLIDATION_FLOW
from croupier.workflows.consolidation import ConsolidationInput, ConsolidationWorkflow
from croupier.workflows.maintenance import FLOW as MAINTENANCE_FLOW
from croupier.workflows.maintenance import (
    MAINTENANCE_WORKFLOW_ID,
    LedgerMaintenanceWorkflow,
    MaintenanceInput,
)
from croupier.workflows.reconciliation import (
    FLOW,
    RECONCILIATION_WORKFLOW_ID,
    ReconciliationInput,
    ReconciliationWorkflow,
)
from croupier.workflows.sweep import FLOW as SWEEP_FLOW
from croupier.workflows.sweep import SweepInput, SweepWorkflow

log = get_logger(__name__)

RECONCILIATION_SCHEDULE_ID = "reconciliation"
MAINTENANCE_SCHEDULE_ID = "ledger-maintenance"
BONUS_REWARDS_SCHEDULE_ID = "bonus-rewards"


def treasury_chains(settings: Settings) -> tuple[str, ...]:
    """Chains whose hot wallets are swept and deposit addresses consolidated: Ethereum,
    and Bitcoin when the worker has a node (``CROUPIER_BTC_RPC_URL``), as its scanner."""
    return ("ethereum",) if settings.btc_rpc_url is None else ("ethereum", "bitcoin")


def reconciliation_schedule(settings: Settings) -> Schedule:
    """Every ``reconciliation_interval_s``; a run still going when the next is due makes
    the next one skip, and runs missed while Temporal was down are not replayed (one
    fresh run proves as much as a backlog of them)."""
    return _every(
        settings,
        timedelta(seconds=settings.reconciliation_interval_s),
        _Run(
            ReconciliationWorkflow.run,
            ReconciliationInput(),
            RECONCILIATION_WORKFLOW_ID,
            FLOW,
            "Scheduled reconciliation: ledger, wallets and deposit addresses vs chain, "
            "drift, outcomes",
        ),
        min_timeout=timedelta(hours=1),
    )


def maintenance_schedule(settings: Settings) -> Schedule:
    """Every ``ledger_maintenance_interval_s``: expire overdue holds, create partitions,
    purge expired request records. Overlap skips and missed runs are not replayed: each
    run does all that is due."""
    return _every(
        settings,
        timedelta(seconds=settings.ledger_maintenance_interval_s),
        _Run(
            LedgerMaintenanceWorkflow.run,
            MaintenanceInput(),
            MAINTENANCE_WORKFLOW_ID,
            MAINTENANCE_FLOW,
            "Scheduled ledger maintenance: expire overdue holds, add partitions, purge "
            "expired request records",
        ),
        min_timeout=timedelta(minutes=30),
    )


def bonus_rewards_schedule(settings: Settings) -> Schedule:
    """Every ``bonus_reward_interval_s``, pay the last closed reward period's cashback and
    rakeback; runs after the first that period find everyone paid and move nothing, so a
    run missed while Temporal was down is made up by the next."""
    return _every(
        settings,
        timedelta(seconds=settings.bonus_reward_interval_s),
        _Run(
            BonusRewardsWorkflow.run,
            RewardsInput(),
            BONUS_REWARDS_WORKFLOW_ID,
            BONUS_REWARDS_FLOW,
            "Scheduled cashback and rakeback of the last closed reward period",
        ),
        min_timeout=timedelta(hours=4),
    )


def sweep_schedule(settings: Settings, chain: str) -> Schedule:
    """Every ``treasury_sweep_interval_s``, one Sweep of the chain's hot wallet; a run
    still going (a sweep waiting for its confirmations) makes the next one skip, and a
    run that timed out leaves its sweep held for the next run to resume."""
    return _every(
        settings,
        timedelta(seconds=settings.treasury_sweep_interval_s),
        _Run(
            SweepWorkflow.run,
            SweepInput(chain=chain),
            sweep_workflow_id(chain),
            SWEEP_FLOW,
            f"Scheduled sweep of the {chain} hot wallet to cold",
        ),
        min_timeout=timedelta(hours=1),
    )


def consolidation_schedule(settings: Settings, chain: str) -> Schedule:
    """Every ``treasury_consolidation_interval_s``, one Consolidation of the chain's
    deposit addresses into its hot wallet; overlap skips, as for sweeps."""
    return _every(
        settings,
        timedelta(seconds=settings.treasury_consolidation_interval_s),
        _Run(
            ConsolidationWorkflow.run,
            ConsolidationInput(chain=chain),
            consolidation_workflow_id(chain),
            CONSOLIDATION_FLOW,
            f"Scheduled consolidation of {chain} deposit addresses",
        ),
        min_timeout=timedelta(hours=2),
    )


@dataclass(frozen=True)
class _Run:
    """The workflow a schedule starts: its run method and input, its fixed id, the
    ``CroupierFlow`` ops filter it by in Temporal UI, and its summary there."""

    workflow: Callable[[Any, Any], Awaitable[Any]]
    arg: object
    workflow_id: str
    flow: str
    summary: str


def _every(
    settings: Settings, interval: timedelta, run: _Run, *, min_timeout: timedelta
) -> Schedule:
    """Start ``run`` every ``interval`` on the workers' queue, each run given four
    intervals (at least ``min_timeout``); a run still going makes the next one skip, and
    runs missed while Temporal was down are not replayed (each run does all that is due)."""
    action = ScheduleActionStartWorkflow(
        run.workflow,
        run.arg,
        id=run.workflow_id,
        task_queue=settings.temporal_task_queue,
        execution_timeout=max(interval * 4, min_timeout),
        typed_search_attributes=TypedSearchAttributes([SearchAttributePair(keys.FLOW, run.flow)]),
        static_summary=run.summary,
    )
    return Schedule(
        action=action,
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=interval),
    )


def desired_schedules(settings: Settings) -> dict[str, Schedule]:
    """Every schedule a worker keeps in place, by id."""
    schedules = {
        RECONCILIATION_SCHEDULE_ID: reconciliation_schedule(settings),
        MAINTENANCE_SCHEDULE_ID: maintenance_schedule(settings),
        BONUS_REWARDS_SCHEDULE_ID: bonus_rewards_schedule(settings),
    }
    for chain in treasury_chains(settings):
        schedules[sweep_schedule_id(chain)] = sweep_schedule(settings, chain)
        schedules[consolidation_schedule_id(chain)] = consolidation_schedule(settings, chain)
    return schedules


def sweep_schedule_id(chain: str) -> str:
    return f"treasury-{sweep_workflow_id(chain)}"


def consolidation_schedule_id(chain: str) -> str:
    return f"treasury-{consolidation_workflow_id(chain)}"


async def ensure_schedules(client: Client, settings: Settings) -> None:
    for schedule_id, desired in desired_schedules(settings).items():
        await _ensure_schedule(client, schedule_id, desired)


async def _ensure_schedule(client: Client, schedule_id: str, desired: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, desired)
        log.info("schedule created", schedule_id=schedule_id)
        return
    except ScheduleAlreadyRunningError:
        pass

    def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=replace(desired, state=current.description.schedule.state))

    await client.get_schedule_handle(schedule_id).update(keep_state)
    log.info("schedule updated", schedule_id=schedule_id)
