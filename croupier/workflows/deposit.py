"""One deposit, from sighting to credit: id ``deposit-eth-<txhash>-<logindex>``.

The scanner starts it when a transfer into a player's address appears in a block. It
records the deposit (the player sees it as pending), then polls the chain on durable
timers until the transfer is ``confirmations_required`` blocks deep in the canonical
chain, checked in that very block, and credits the ledger once (the credit is keyed by
the deposit id). If a reorg removes the transaction, it waits for it to be mined again
(credit then) or, after the orphan timeout, marks it orphaned and ends; the scanner
starts a new run if it is mined later still. Dust is recorded and never credited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.deposits import (
        DepositActivities,
        DepositInclusion,
        DepositPlan,
        DepositSighting,
        DepositState,
    )
    from croupier.payments.states import DepositStatus
    from croupier.workflows import search_attributes as keys

FLOW = "deposit"
DB_TIMEOUT = timedelta(seconds=30)
CHAIN_TIMEOUT = timedelta(seconds=60)
# Database and node outages are waited out, visibly (the activity shows its attempts);
# refusals are non-retryable by type, so these retries only ever cover transient faults.
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


@dataclass(frozen=True)
class DepositInput:
    sighting: DepositSighting
    # Carried across continue-as-new: since when the transfer has been out of the chain.
    missing_since: datetime | None = None


@dataclass(frozen=True)
class DepositOutcome:
    deposit_id: str
    status: str


@workflow.defn(name="Deposit")
class DepositWorkflow:
    @workflow.run
    async def run(self, request: DepositInput) -> DepositOutcome:
        sighting = request.sighting
        plan: DepositPlan = await workflow.execute_activity_method(
            DepositActivities.record_deposit,
            sighting,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=RETRY,
        )
        workflow.upsert_search_attributes(
            [
                keys.FLOW.value_set(FLOW),
                keys.PLAYER_ID.value_set(plan.user_id),
                keys.CURRENCY.value_set(sighting.currency),
            ]
        )
        status = DepositStatus(plan.status)
        self._show(status, f"recorded: {sighting.amount} {sighting.currency} minor units")
        if status.is_final:
            return DepositOutcome(plan.deposit_id, status.value)
        missing_since = request.missing_since
        poll = timedelta(seconds=plan.poll_interval_s)
        orphan_timeout = timedelta(seconds=plan.orphan_timeout_s)
        while True:
            inclusion: DepositInclusion = await workflow.execute_activity_method(
                DepositActivities.check_deposit,
                sighting,
                start_to_close_timeout=CHAIN_TIMEOUT,
                retry_policy=RETRY,
            )
            if inclusion.included and inclusion.confirmations >= plan.confirmations_required:
                return await self._finish(DepositActivities.credit_deposit, plan)
            if inclusion.included:
                missing_since = None
                self._show(
                    DepositStatus.CONFIRMING,
                    f"{inclusion.confirmations}/{plan.confirmations_required} confirmations "
                    f"(block {inclusion.block_number})",
                )
            else:
                missing_since = missing_since or workflow.now()
                if workflow.now() - missing_since >= orphan_timeout:
                    return await self._finish(DepositActivities.orphan_deposit, plan)
                self._show(
                    DepositStatus.PENDING,
                    f"not in the canonical chain since {missing_since.isoformat()}; "
                    "waiting for it to be mined again",
                )
            await workflow.sleep(poll)
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(DepositInput(sighting, missing_since=missing_since))

    async def _finish(
        self, step: Callable[[DepositActivities, str], DepositState], plan: DepositPlan
    ) -> DepositOutcome:
        state = await workflow.execute_activity_method(
            step,
            plan.deposit_id,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=RETRY,
        )
        self._show(DepositStatus(state.status), state.status)
        return DepositOutcome(state.deposit_id, state.status)

    @staticmethod
    def _show(status: DepositStatus, details: str) -> None:
        workflow.upsert_search_attributes([keys.STATUS.value_set(status.value)])
        workflow.set_current_details(details)
