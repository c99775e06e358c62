"""One sweep of a chain's hot wallet to cold: started by the ``treasury-sweep-<chain>``
Schedule every ``CROUPIER_TREASURY_SWEEP_INTERVAL_S`` (see ``croupier.workers.schedules``),
each run's id being ``sweep-<chain>-<scheduled time>``.

For each currency with hot wallet limits (``CROUPIER_TREASURY_HOT_WALLETS``):

1. Plan (one activity): a sweep still in flight from an earlier run is resumed;
   otherwise, over the cap, the excess above the target (never below what approved
   withdrawals still need) is held in the ledger as a sweep to the cold address.
2. Below the floor, a Refill is raised (a workflow of its own that outlives this run),
   unless one is open already.
3. Each sweep is queued at the Hot Wallet Sender (it owns the nonce) and followed to its
   end; once final at depth it is posted (``cold_wallet <- hot_wallet`` and the fee).

The ledger hold is what makes runs idempotent: while a sweep is in flight its amount is
no longer available in the ledger, so a second run (or the same run after a worker
restart) never sweeps the same coins twice, and at most one sweep per currency is in
flight (the database refuses a second).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ParentClosePolicy

# Sandboxed like workflow code: its own pass-through imports (the activity payloads)
# then resolve inside the sandbox.
from croupier.workflows.treasury_sends import HotWalletSends

with workflow.unsafe.imports_passed_through():
    from croupier.activities.treasury import SweepOrder, SweepStep, TreasuryActivities
    from croupier.core.money import Currency, format_decimal
    from croupier.sweeps.keys import refill_workflow_id
    from croupier.sweeps.refills import SYSTEM_REQUESTER
    from croupier.workflows import search_attributes as keys
    from croupier.workflows.hot_wallet_sender import SendProgress
    from croupier.workflows.refill import RefillInput, RefillWorkflow

FLOW = "treasury-sweep"
PLAN_TIMEOUT = timedelta(minutes=2)
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


@dataclass(frozen=True)
class SweepInput:
    chain: str = "ethereum"


@dataclass(frozen=True)
class SweptCurrency:
    currency: str
    # What this run swept or resumed (minor units), "0" for nothing.
    amount: str
    status: str
    tx_hash: str | None
    refill_id: str | None
    note: str


@dataclass(frozen=True)
class SweepResult:
    currencies: tuple[SweptCurrency, ...]


@workflow.defn(name="Sweep")
class SweepWorkflow:
    def __init__(self) -> None:
        self._sends = HotWalletSends()

    @workflow.run
    async def run(self, request: SweepInput) -> SweepResult:
        self._status("planning", "reading the hot wallet's balances")
        steps: tuple[SweepStep, ...] = await workflow.execute_activity_method(
            TreasuryActivities.plan_sweeps,
            SweepOrder(chain=request.chain, run_key=workflow.info().workflow_id),
            start_to_close_timeout=PLAN_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RETRY,
        )
        refills = {step.currency: await self._refill_if_low(request, step) for step in steps}
        movements = [step.movement for step in steps if step.movement is not None]
        if movements:
            self._status("sending", f"{len(movements)} sweep(s) to cold on their way")
        booked = {view.currency: view for view in await self._sends.drive(movements)}
        result = SweepResult(
            tuple(
                SweptCurrency(
                    currency=step.currency,
                    amount="0" if step.movement is None else step.movement.amount,
                    status=booked[step.currency].status
                    if step.currency in booked
                    else ("held" if step.movement else "nothing to sweep"),
                    tx_hash=booked[step.currency].tx_hash if step.currency in booked else None,
                    refill_id=refills[step.currency],
                    note=step.note,
                )
                for step in steps
            )
        )
        self._status("done", "; ".join(f"{c.currency}: {c.status}" for c in result.currencies))
        return result

    @workflow.signal
    def send_progress(self, progress: SendProgress) -> None:
        """The Hot Wallet Sender's news about one of this run's sweeps."""
        self._sends.hear(progress)

    async def _refill_if_low(self, request: SweepInput, step: SweepStep) -> str | None:
        """Raise a Refill (it outlives this run) when the hot wallet is below its floor
        and none is open; the open one's id otherwise."""
        if step.open_refill_id is not None or step.refill_amount == "0":
            return step.open_refill_id
        refill_uuid = workflow.uuid4()
        refill_id = str(refill_uuid)
        currency = Currency(step.currency)
        amount = format_decimal(int(step.refill_amount), currency)
        await workflow.start_child_workflow(
            RefillWorkflow.run,
            RefillInput(
                refill_id=refill_id,
                chain=request.chain,
                currency=step.currency,
                amount=step.refill_amount,
                requested_by=SYSTEM_REQUESTER,
                reason=f"the hot wallet is below its floor ({step.note})",
            ),
            id=refill_workflow_id(refill_uuid),
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"Refill of {amount} {currency} from cold (hot wallet below floor)",
        )
        return refill_id

    def _status(self, status: str, details: str) -> None:
        workflow.upsert_search_attributes(
            [keys.FLOW.value_set(FLOW), keys.STATUS.value_set(status)]
        )
        workflow.set_current_details(details)
