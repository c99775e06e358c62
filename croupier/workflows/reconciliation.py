"""Reconciliation: prove the books, compare them with the chains, look for money leaks.

Runs on a Temporal Schedule (``RECONCILIATION_SCHEDULE_ID``, every
``CROUPIER_RECONCILIATION_INTERVAL_S``; see ``croupier.workers.schedules``), each run's
workflow id being ``reconciliation-<scheduled time>``. One run, in order:

1. the ledger's invariants (``croupier.ledger.reconcile``);
2. every addressed hot/cold wallet account against its chain, allowing for holds in flight;
3. player deposit addresses: the ledger's ``deposits_in_flight`` against the deposit and
   treasury records, then a rotating batch of addresses against the chain
   (``croupier.monitoring.deposit_addresses``);
4. house balance drift since the previous run (the house moved by exactly its GGR);
5. every game's recent outcomes against its exact odds.

Each check is one activity that raises its own alerts; the run is recorded (metrics read
the latest) and returns a summary. A run scoped to ``account_ids`` (ops re-checking
accounts after a fix) does steps 1 and 2 for those accounts only: deposit addresses,
drift and outcomes are casino-wide and run only in full runs. Step 3 came later: runs
started before it (their histories lack the ``DEPOSIT_ADDRESSES_PATCH`` marker) skip it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.monitoring import (
        CheckScope,
        DepositCheckResult,
        DriftCheckResult,
        LedgerCheckResult,
        MonitoringActivities,
        OutcomeCheckResult,
        RecordRunInput,
        WalletCheckResult,
    )
    from croupier.workflows import search_attributes as keys

RECONCILIATION_WORKFLOW_ID = "reconciliation"
FLOW = "reconciliation"
DEPOSIT_ADDRESSES_PATCH = "deposit-addresses"
# A full ledger scan grows with the ledger; the timeout is generous, the retries few:
# the next scheduled run retries the whole thing anyway.
LEDGER_CHECK_TIMEOUT = timedelta(minutes=30)
CHECK_TIMEOUT = timedelta(minutes=5)
CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=5,
)


@dataclass(frozen=True)
class ReconciliationInput:
    # None: a full run. A list: only these ledger accounts (ledger and wallet checks).
    account_ids: list[int] | None = None


@dataclass(frozen=True)
class ReconciliationResult:
    ok: bool
    scoped: bool
    ledger: LedgerCheckResult
    wallets: WalletCheckResult
    drift: DriftCheckResult | None
    outcomes: OutcomeCheckResult | None
    deposit_addresses: DepositCheckResult | None = None


@workflow.defn(name="Reconciliation")
class ReconciliationWorkflow:
    @workflow.run
    async def run(self, request: ReconciliationInput) -> ReconciliationResult:
        scoped = request.account_ids is not None
        self._status("running", "checking the ledger's invariants")
        scope = CheckScope(account_ids=request.account_ids)
        ledger = await workflow.execute_activity_method(
            MonitoringActivities.check_ledger,
            scope,
            start_to_close_timeout=LEDGER_CHECK_TIMEOUT,
            retry_policy=CHECK_RETRY,
        )
        workflow.set_current_details(f"ledger: {ledger.violations} violation(s); wallets next")
        wallets = await workflow.execute_activity_method(
            MonitoringActivities.check_wallets,
            scope,
            start_to_close_timeout=CHECK_TIMEOUT,
            retry_policy=CHECK_RETRY,
        )
        drift = outcomes = deposit_addresses = None
        if not scoped and workflow.patched(DEPOSIT_ADDRESSES_PATCH):
            workflow.set_current_details("checking player deposit addresses")
            deposit_addresses = await workflow.execute_activity_method(
                MonitoringActivities.check_deposit_addresses,
                start_to_close_timeout=CHECK_TIMEOUT,
                retry_policy=CHECK_RETRY,
            )
        if not scoped:
            workflow.set_current_details("checking house drift and game outcomes")
            drift = await workflow.execute_activity_method(
                MonitoringActivities.check_house_drift,
                start_to_close_timeout=CHECK_TIMEOUT,
                retry_policy=CHECK_RETRY,
            )
            outcomes = await workflow.execute_activity_method(
                MonitoringActivities.check_outcomes,
                start_to_close_timeout=CHECK_TIMEOUT,
                retry_policy=CHECK_RETRY,
            )
        result = ReconciliationResult(
            ok=not (
                ledger.violations
                or wallets.mismatches
                or (drift is not None and drift.drifts)
                or (outcomes is not None and outcomes.flagged)
                or (deposit_addresses is not None and deposit_addresses.mismatches)
            ),
            scoped=scoped,
            ledger=ledger,
            wallets=wallets,
            drift=drift,
            outcomes=outcomes,
            deposit_addresses=deposit_addresses,
        )
        await workflow.execute_activity_method(
            MonitoringActivities.record_run,
            _run_record(workflow.info().workflow_id, result),
            start_to_close_timeout=CHECK_TIMEOUT,
            retry_policy=CHECK_RETRY,
        )
        self._status("ok" if result.ok else "mismatch", _summary(result))
        return result

    def _status(self, status: str, details: str) -> None:
        workflow.upsert_search_attributes(
            [keys.FLOW.value_set(FLOW), keys.STATUS.value_set(status)]
        )
        workflow.set_current_details(details)


def _run_record(run_key: str, result: ReconciliationResult) -> RecordRunInput:
    return RecordRunInput(
        run_key=run_key,
        ledger_violations=result.ledger.violations,
        wallet_mismatches=result.wallets.mismatches,
        house_drifts=0 if result.drift is None else result.drift.drifts,
        biased_games=0 if result.outcomes is None else result.outcomes.flagged,
        report=asdict(result),
        deposit_mismatches=(
            0 if result.deposit_addresses is None else result.deposit_addresses.mismatches
        ),
    )


def _summary(result: ReconciliationResult) -> str:
    parts = [
        f"ledger violations {result.ledger.violations}",
        f"wallets {result.wallets.checked} checked, {result.wallets.mismatches} mismatched, "
        f"{result.wallets.unreadable} unreadable",
    ]
    if result.deposit_addresses is not None:
        checked = sum(chain.addresses_checked for chain in result.deposit_addresses.chains)
        parts.append(
            f"deposit addresses {checked} checked, {result.deposit_addresses.mismatches} mismatched"
        )
    if result.drift is not None:
        parts.append(f"house drift in {result.drift.drifts} currencies")
    if result.outcomes is not None:
        parts.append(f"{result.outcomes.flagged} games flagged")
    return ("ok: " if result.ok else "MISMATCH: ") + "; ".join(parts)
