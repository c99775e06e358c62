"""Ledger maintenance: expire timed-out holds and keep monthly partitions ahead of need.

Runs on a Temporal Schedule of its own (``MAINTENANCE_SCHEDULE_ID``, every
``CROUPIER_LEDGER_MAINTENANCE_INTERVAL_S``; see ``croupier.workers.schedules``), not as a
step of reconciliation: a hold's timeout wants minutes, not a reconciliation interval,
and a slow ledger scan must not delay the release of players' held funds. One run:

1. expire overdue holds, a bounded batch per activity, until a batch comes back short or
   ``max_expiry_batches`` ran (what is left is the next run's);
2. create the partitions of ``transfers``, ``ledger_entries`` and ``bets`` missing from
   this month to ``CROUPIER_LEDGER_PARTITION_MONTHS_AHEAD`` months ahead.

Reconciliation still reports holds overdue past its grace and missing partitions: if
this schedule stops, the alarm says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.maintenance import MaintenanceActivities
    from croupier.workflows import search_attributes as keys

MAINTENANCE_WORKFLOW_ID = "ledger-maintenance"
FLOW = "ledger-maintenance"
MAX_EXPIRY_BATCHES = 100
STEP_TIMEOUT = timedelta(minutes=2)
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)


@dataclass(frozen=True)
class MaintenanceInput:
    max_expiry_batches: int = 10


@dataclass(frozen=True)
class MaintenanceResult:
    holds_expired: int
    # Batches ran out with holds still overdue; the next run carries on.
    expiry_incomplete: bool
    ledger_partitions_created: int
    bet_partitions_created: int


@workflow.defn(name="LedgerMaintenance")
class LedgerMaintenanceWorkflow:
    @workflow.run
    async def run(self, request: MaintenanceInput) -> MaintenanceResult:
        batches = max(1, min(request.max_expiry_batches, MAX_EXPIRY_BATCHES))
        workflow.upsert_search_attributes(
            [keys.FLOW.value_set(FLOW), keys.STATUS.value_set("running")]
        )
        expired, more = 0, True
        for _ in range(batches):
            batch = await workflow.execute_activity_method(
                MaintenanceActivities.expire_holds,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
            )
            expired, more = expired + batch.expired, batch.more
            workflow.set_current_details(f"{expired} hold(s) expired so far")
            if not more:
                break
        created = await workflow.execute_activity_method(
            MaintenanceActivities.ensure_partitions,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        result = MaintenanceResult(
            holds_expired=expired,
            expiry_incomplete=more,
            ledger_partitions_created=created.ledger_created,
            bet_partitions_created=created.bets_created,
        )
        workflow.upsert_search_attributes([keys.STATUS.value_set("done")])
        workflow.set_current_details(
            f"{expired} hold(s) expired{' (more left)' if more else ''}; partitions created: "
            f"ledger {created.ledger_created}, bets {created.bets_created}"
        )
        return result
