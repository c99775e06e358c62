"""One consolidation of a chain's deposit addresses into its hot wallet: started by the
``treasury-consolidation-<chain>`` Schedule every ``CROUPIER_TREASURY_CONSOLIDATION_INTERVAL_S``,
each run's id being ``consolidation-<chain>-<scheduled time>``.

A run has at most ``MAX_ROUNDS`` rounds. Each plans (one activity, a bounded batch of
the most worthwhile addresses; ``croupier.treasury.consolidation``) and drives:

- gas top-ups (hot wallet -> a deposit address holding tokens but too little native
  coin to pay for moving them), through the Hot Wallet Sender;
- consolidations (deposit address -> hot wallet), signed with the address's key.

Every movement is held in the ledger when planned and posted once final at depth, so
the ledger follows each on-chain movement. A round that topped addresses up is followed
by one that moves their tokens. Movements still in flight from an earlier run are
resumed by the next round that plans.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

# Sandboxed like workflow code: its own pass-through imports (the activity payloads)
# then resolve inside the sandbox.
from croupier.workflows.treasury_sends import HotWalletSends, drive_address_sends

with workflow.unsafe.imports_passed_through():
    from croupier.activities.movements import MovementView
    from croupier.activities.treasury import (
        ConsolidationOrder,
        ConsolidationPlan,
        TreasuryActivities,
    )
    from croupier.sweeps.movements import MovementKind, MovementStatus
    from croupier.workflows import search_attributes as keys
    from croupier.workflows.hot_wallet_sender import SendProgress

FLOW = "treasury-consolidation"
MAX_ROUNDS = 2
PLAN_TIMEOUT = timedelta(minutes=5)
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


@dataclass(frozen=True)
class ConsolidationInput:
    chain: str = "ethereum"


@dataclass(frozen=True)
class ConsolidationResult:
    rounds: int
    top_ups: int
    consolidations: int
    # Per currency, what reached the hot wallet (minor units).
    consolidated: dict[str, str]
    failed: int


@workflow.defn(name="Consolidation")
class ConsolidationWorkflow:
    def __init__(self) -> None:
        self._sends = HotWalletSends()

    @workflow.run
    async def run(self, request: ConsolidationInput) -> ConsolidationResult:
        workflow.upsert_search_attributes([keys.FLOW.value_set(FLOW)])
        booked: list[MovementView] = []
        rounds = 0
        for round_number in range(MAX_ROUNDS):
            plan = await self._plan(request, round_number)
            if not plan.movements:
                break
            rounds += 1
            top_ups = [m for m in plan.movements if m.kind == MovementKind.TOP_UP]
            moves = [m for m in plan.movements if m.kind == MovementKind.CONSOLIDATION]
            self._status("moving", f"round {round_number + 1}: {plan.note}")
            driven = await asyncio.gather(
                self._sends.drive(top_ups),
                drive_address_sends(moves, timedelta(seconds=plan.poll_interval_s)),
            )
            booked += [*driven[0], *driven[1]]
            if not top_ups:
                break
        result = _result(rounds, booked)
        self._status("done", f"{result.consolidations} consolidated, {result.top_ups} topped up")
        return result

    @workflow.signal
    def send_progress(self, progress: SendProgress) -> None:
        """The Hot Wallet Sender's news about one of this run's gas top-ups."""
        self._sends.hear(progress)

    async def _plan(self, request: ConsolidationInput, round_number: int) -> ConsolidationPlan:
        self._status("planning", f"round {round_number + 1}: choosing addresses")
        return await workflow.execute_activity_method(
            TreasuryActivities.plan_consolidation,
            ConsolidationOrder(request.chain, workflow.info().workflow_id, round_number),
            start_to_close_timeout=PLAN_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RETRY,
        )

    def _status(self, status: str, details: str) -> None:
        workflow.upsert_search_attributes([keys.STATUS.value_set(status)])
        workflow.set_current_details(details)


def _result(rounds: int, booked: list[MovementView]) -> ConsolidationResult:
    completed = [m for m in booked if m.status == MovementStatus.COMPLETED]
    consolidated: dict[str, int] = {}
    for movement in completed:
        if movement.kind == MovementKind.CONSOLIDATION:
            consolidated[movement.currency] = consolidated.get(movement.currency, 0) + int(
                movement.amount
            )
    return ConsolidationResult(
        rounds=rounds,
        top_ups=sum(1 for m in completed if m.kind == MovementKind.TOP_UP),
        consolidations=sum(1 for m in completed if m.kind == MovementKind.CONSOLIDATION),
        consolidated={currency: str(amount) for currency, amount in consolidated.items()},
        failed=len(booked) - len(completed),
    )
