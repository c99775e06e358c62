"""The per-chain deposit scanner: id ``deposit-scanner-eth`` (``-btc``), long-running.

One workflow type for every chain: the chain plugs in behind the scan activity
(``croupier.activities.scanning.ScannedChain``), which this workflow names by
``DepositScannerInput.chain``.

Each step is one activity (``payments.scan_deposits``): check the remembered window
for a reorg, scan the next blocks, start one Deposit workflow per transfer into our
addresses, save the window. The window lives in the database, not here, so history
stays a few events per step and a scanner stopped and started again resumes from the
last block it fully handed over. Caught up with the node, it sleeps between steps;
after ``MAX_STEPS_PER_RUN`` steps (or when Temporal suggests) it continues as new.

A reorg deeper than the window cannot be judged automatically, nor can a node of another
chain: on such a refusal the scanner halts (status ``halted``, the reason in its details)
until staff send ``rescan_from`` with a block to start again from.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.scanning import ScannerActivities, ScanReport, ScanRequest
    from croupier.payments.keys import scanner_workflow_id
    from croupier.workflows import search_attributes as keys

FLOW = "deposit-scanner"
MAX_STEPS_PER_RUN = 500
SCAN_TIMEOUT = timedelta(minutes=2)
SCAN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


@dataclass(frozen=True)
class DepositScannerInput:
    chain: str = "ethereum"
    # Where a chain with no cursor yet starts; None: the setting, else the node's head.
    start_block: int | None = None


@dataclass(frozen=True)
class RescanRequest:
    """Staff: forget the window and scan again from ``from_block`` (deposits found again
    are not duplicated)."""

    from_block: int
    staff_id: str
    reason: str


@workflow.defn(name="DepositScanner")
class DepositScannerWorkflow:
    def __init__(self) -> None:
        self._rescan: RescanRequest | None = None
        self._last: ScanReport | None = None

    @workflow.run
    async def run(self, request: DepositScannerInput) -> None:
        workflow.upsert_search_attributes([keys.FLOW.value_set(FLOW)])
        start_block = request.start_block
        for _ in range(MAX_STEPS_PER_RUN):
            if self._rescan is not None:
                start_block = await self._reset(request.chain, self._rescan)
            try:
                report = await self._step(request.chain, start_block)
            except ActivityError as error:
                # Only refusals get here (transient faults are retried): a reorg deeper
                # than the window, a node of another chain. Both need a person.
                await self._halt(str(error.cause or error))
                continue
            if report.caught_up:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._rescan is not None,
                        timeout=timedelta(seconds=report.poll_interval_s),
                    )
            if workflow.info().is_continue_as_new_suggested():
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(DepositScannerInput(request.chain, start_block))

    @workflow.signal
    def rescan_from(self, request: RescanRequest) -> None:
        if request.from_block < 0 or not request.staff_id or not request.reason:
            workflow.logger.warning("ignored a rescan without block, staff id or reason")
            return
        self._rescan = request

    @workflow.query
    def last_step(self) -> ScanReport | None:
        return self._last

    async def _step(self, chain: str, start_block: int | None) -> ScanReport:
        report: ScanReport = await workflow.execute_activity_method(
            ScannerActivities.scan_deposits,
            ScanRequest(chain=chain, start_block=start_block),
            start_to_close_timeout=SCAN_TIMEOUT,
            retry_policy=SCAN_RETRY,
        )
        self._last = report
        self._show(
            "scanning",
            f"at block {report.tip} of {report.head}; the last step found "
            f"{report.deposits_found} deposit(s) and a reorg of depth {report.reorg_depth}",
        )
        return report

    async def _reset(self, chain: str, rescan: RescanRequest) -> int:
        await workflow.execute_activity_method(
            ScannerActivities.reset_scanner,
            chain,
            start_to_close_timeout=SCAN_TIMEOUT,
            retry_policy=SCAN_RETRY,
        )
        self._rescan = None
        self._show(
            "scanning",
            f"rescanning from block {rescan.from_block} ({rescan.staff_id}: {rescan.reason})",
        )
        return rescan.from_block

    async def _halt(self, reason: str) -> None:
        self._show("halted", f"halted: {reason}; send rescan_from to resume")
        await workflow.wait_condition(lambda: self._rescan is not None)

    @staticmethod
    def _show(status: str, details: str) -> None:
        """Keep ``CroupierStatus`` current (an upsert only when it changes) and the details."""
        if workflow.info().typed_search_attributes.get(keys.STATUS) != status:
            workflow.upsert_search_attributes([keys.STATUS.value_set(status)])
        workflow.set_current_details(details)


async def ensure_deposit_scanner(client: Client, task_queue: str, chain: str = "ethereum") -> None:
    """Start the chain's scanner unless it runs already (the worker calls this on start)."""
    await client.start_workflow(
        DepositScannerWorkflow.run,
        DepositScannerInput(chain=chain),
        id=scanner_workflow_id(chain),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"Deposit scanner for {chain}",
    )
