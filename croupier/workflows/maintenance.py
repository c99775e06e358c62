"""Ledger maintenance: expire timed-out holds and keep monthly partitions ahead of need.

Runs on a Temporal Schedule of its own (``MAINTENANCE_SCHEDULE_ID``, every
``CROUPIER_LEDGER_MAINTENANCE_INTERVAL_S``; see ``croupier.workers.schedules``), not as a
step of reconciliation: a hold's timeout wants minutes, not a reconciliation interval,
and a slow ledger scan must not delay the release of players' held funds. One run:

1. expire overdue holds, a bounded batch per activity, until a batch comes back short or
   ``max_expiry_batches`` ran (what is left is the next run's);
2. create the partitions of ``transfers``, ``ledger_entries`` and ``bets`` missing from
   this month to ``CROUPIER_LEDGER_PARTITION_MONTHS_AHEAD`` months ahead;
3. purge what the API keeps per request once it no longer matters: Idempotency-Keys
   older than ``CROUPIER_IDEMPOTENCY_KEY_TTL_S`` and idle rate-limit buckets, in bounded
   batches as in step 1 (runs started before this step existed skip it).

Reconciliation still reports holds overdue past its grace and missing partitions: if
this schedule stops, the alarm says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.maintenance import MaintenanceActivities, PurgeResult
    from croupier.workflows import search_attributes as keys

MAINTENANCE_WORKFLOW_ID = "ledger-maintenance"
FLOW = "ledger-maintenance"
MAX_EXPIRY_BATCHES = 100
PURGE_PATCH = "maintenance-purges-request-records"
STEP_TIMEOUT = timedelta(minutes=2)
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)


@dataclass(frozen=True)
class MaintenanceInput:
    # Per batched step: hold expiry, and the request-record purge (the name predates it;
    # schedules already pass it).
    max_expiry_batches: int = 10


@dataclass(frozen=True)
class MaintenanceResult:
    holds_expired: int
    # Batches ran out with holds still overdue; the next run carries on.
    expiry_incomplete: bool
    ledger_partitions_created: int
    bet_partitions_created: int
    idempotency_keys_purged: int = 0
    rate_limit_buckets_purged: int = 0
    # Batches ran out with request records still due; the next run carries on.
    purge_incomplete: bool = False


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
        purged = PurgeResult(0, 0, more=False)
        if workflow.patched(PURGE_PATCH):
            purged = await self._purge(batches)
        result = MaintenanceResult(
            holds_expired=expired,
            expiry_incomplete=more,
            ledger_partitions_created=created.ledger_created,
            bet_partitions_created=created.bets_created,
            idempotency_keys_purged=purged.idempotency_keys,
            rate_limit_buckets_purged=purged.rate_limit_buckets,
            purge_incomplete=purged.more,
        )
        workflow.upsert_search_attributes([keys.STATUS.value_set("done")])
        workflow.set_current_details(
            f"{expired} hold(s) expired{' (more left)' if more else ''}; partitions created: "
            f"ledger {created.ledger_created}, bets {created.bets_created}; purged: "
            f"{purged.idempotency_keys} idempotency key(s), {purged.rate_limit_buckets} "
            f"rate-limit bucket(s){' (more left)' if purged.more else ''}"
        )
        return result

    async def _purge(self, batches: int) -> PurgeResult:
        """Purge batches until one comes back short or ``batches`` ran; the totals."""
        total = PurgeResult(0, 0, more=True)
        for _ in range(batches):
            batch = await workflow.execute_activity_method(
                MaintenanceActivities.purge_request_records,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
            )
            total = PurgeResult(
                idempotency_keys=total.idempotency_keys + batch.idempotency_keys,
                rate_limit_buckets=total.rate_limit_buckets + batch.rate_limit_buckets,
                more=batch.more,
            )
            if not batch.more:
                break
        return total
