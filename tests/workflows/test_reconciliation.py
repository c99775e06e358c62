"""The Reconciliation workflow on the time-skipping server: every check runs, the run is
recorded, and its status says whether the books held."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from croupier.ledger import AccountKind, TransferType
from croupier.workflows import search_attributes as keys
from croupier.workflows.reconciliation import (
    ReconciliationInput,
    ReconciliationResult,
    ReconciliationWorkflow,
)
from tests.integration.monitoring.conftest import ETH, Corner
from tests.integration.monitoring.test_reconciliation import superuser_tamper
from tests.workflows.conftest import Recorder


async def reconcile(
    env: WorkflowEnvironment, queue: str, request: ReconciliationInput
) -> tuple[ReconciliationResult, WorkflowHandle[ReconciliationWorkflow, ReconciliationResult]]:
    handle = await env.client.start_workflow(
        ReconciliationWorkflow.run,
        request,
        id=f"reconciliation-test-{uuid.uuid4()}",
        task_queue=queue,
    )
    return await handle.result(), handle


async def status_of(handle: WorkflowHandle[ReconciliationWorkflow, ReconciliationResult]) -> str:
    description = await handle.describe()
    status = description.typed_search_attributes.get(keys.STATUS)
    assert status is not None
    return status


def recorded_ok(engine: Engine, run_key: str) -> bool:
    with engine.connect() as conn:
        ok: bool = conn.execute(
            text("SELECT ok FROM reconciliation_runs WHERE run_key = :key"), {"key": run_key}
        ).scalar_one()
    return ok


async def test_a_run_over_whole_books_is_ok_and_recorded(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    corner = Corner(engine)
    player = corner.open(AccountKind.PLAYER_CASH)
    corner.move(corner.open(AccountKind.DEPOSITS_IN_FLIGHT), player, ETH, TransferType.DEPOSIT)

    result, handle = await reconcile(
        time_skipping_env, time_skipping_worker, ReconciliationInput(account_ids=corner.ids)
    )

    assert result.ok and result.scoped and result.drift is None and result.outcomes is None
    assert result.ledger.accounts_checked == 2 and result.ledger.entries_checked == 2
    assert await status_of(handle) == "ok"
    assert recorded_ok(engine, handle.id)
    await record_history(handle, "scoped-ok")


async def test_a_run_over_tampered_books_reports_the_mismatch(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, engine: Engine
) -> None:
    corner = Corner(engine)
    player = corner.open(AccountKind.PLAYER_CASH)
    deposit = corner.move(
        corner.open(AccountKind.DEPOSITS_IN_FLIGHT), player, ETH, TransferType.DEPOSIT
    )

    with superuser_tamper(engine, deposit):
        result, handle = await reconcile(
            time_skipping_env, time_skipping_worker, ReconciliationInput(account_ids=corner.ids)
        )

    assert not result.ok and result.ledger.violations >= 2
    assert {"balance_mismatch", "journal_mismatch"} <= set(result.ledger.violations_by_check)
    assert await status_of(handle) == "mismatch"
    assert not recorded_ok(engine, handle.id)


async def test_a_full_run_also_checks_house_drift_and_game_outcomes(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    """Over the whole session database, whose state other tests shape: only the shape
    of the run is asserted here; each check's verdicts are tested on its own."""
    result, handle = await reconcile(time_skipping_env, time_skipping_worker, ReconciliationInput())

    assert not result.scoped and result.drift is not None and result.outcomes is not None
    assert result.outcomes.games >= 0 and result.ledger.accounts_checked > 0
    assert result.deposit_addresses is not None
    assert {chain.chain for chain in result.deposit_addresses.chains} == {"bitcoin", "ethereum"}
    assert await status_of(handle) in {"ok", "mismatch"}
    assert recorded_ok(engine, handle.id) == result.ok
    # Reconciliation-full.json is a run from before the deposit-address step (no patch
    # marker); it keeps replaying the old path.
    await record_history(handle, "full-with-deposit-addresses")
