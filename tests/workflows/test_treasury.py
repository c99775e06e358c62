"""Treasury workflows on the time-skipping server against a private Anvil: a refill's day
of waiting passes in an instant, while activities talk to the real node and database.
These runs also record the Sweep, Consolidation and Refill histories for the replay test.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from sqlalchemy import Engine
from temporalio.api.testservice.v1 import LockTimeSkippingRequest, UnlockTimeSkippingRequest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.sweeps.keys import refill_workflow_id
from croupier.sweeps.refills import get_refill
from croupier.treasury.signer import HDSigner
from croupier.workflows.consolidation import ConsolidationInput, ConsolidationWorkflow
from croupier.workflows.refill import (
    RefillDecision,
    RefillInput,
    RefillTransactionSubmission,
    RefillView,
    RefillWorkflow,
)
from croupier.workflows.sweep import SweepInput, SweepWorkflow
from tests.integration.payments.conftest import ETH, eventually, send_eth
from tests.integration.payments.conftest import keystore_dir as keystore_dir
from tests.integration.payments.conftest import test_signer as test_signer
from tests.integration.sweeps.support import CONFIRMATIONS, TreasuryStack, mining, treasury_stack
from tests.workflows.conftest import Recorder

GWEI = 10**9


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def skipping_treasury(
    anvil_binary: Path,
    settings: Settings,
    engine: Engine,
    time_skipping_env: WorkflowEnvironment,
    keystore_dir: Path,
    test_signer: HDSigner,
) -> AsyncIterator[TreasuryStack]:
    async with treasury_stack(
        anvil_binary=anvil_binary,
        settings=settings,
        engine=engine,
        temporal=time_skipping_env.client,
        keystore_dir=keystore_dir,
        signer=test_signer,
    ) as stack:
        yield stack


@contextlib.asynccontextmanager
async def skipping_time(env: WorkflowEnvironment) -> AsyncIterator[None]:
    """Let the test server skip time while waiting on workflows this test did not start
    (the sweep's child refills): only handles from ``start_workflow`` unlock it alone."""
    service = env.client.test_service
    await service.unlock_time_skipping(UnlockTimeSkippingRequest())
    try:
        yield
    finally:
        await service.lock_time_skipping(LockTimeSkippingRequest())


async def start_refill(
    stack: TreasuryStack, amount: int, requested_by: uuid.UUID
) -> WorkflowHandle[RefillWorkflow, RefillView]:
    refill_id = uuid.uuid4()
    return await stack.temporal.start_workflow(
        RefillWorkflow.run,
        RefillInput(
            refill_id=str(refill_id),
            chain="ethereum",
            currency="ETH",
            amount=str(amount),
            requested_by=str(requested_by),
            reason="payouts this weekend",
        ),
        id=refill_workflow_id(refill_id),
        task_queue=stack.task_queue,
    )


async def viewed(handle: WorkflowHandle[RefillWorkflow, RefillView]) -> RefillView:
    return await handle.query(RefillWorkflow.view)


async def test_a_sweep_finding_the_hot_wallet_low_raises_refills_that_expire_unapproved(
    skipping_treasury: TreasuryStack,
    time_skipping_env: WorkflowEnvironment,
    record_history: Recorder,
) -> None:
    stack = skipping_treasury
    sweep = await stack.temporal.start_workflow(
        SweepWorkflow.run, SweepInput(), id=f"sweep-eth-{uuid.uuid4()}", task_queue=stack.task_queue
    )
    swept = await sweep.result()
    refill_ids = {c.currency: c.refill_id for c in swept.currencies}
    assert set(refill_ids) == {"ETH", "USDT"} and all(refill_ids.values())
    eth_refill = stack.temporal.get_workflow_handle_for(
        RefillWorkflow.run, refill_workflow_id(uuid.UUID(refill_ids["ETH"]))
    )
    await eth_refill.signal(RefillWorkflow.approve, RefillDecision(str(uuid.uuid4()), "ok"))
    await eventually(lambda: _approvals(eth_refill, 1), what="the one approval recorded")
    async with skipping_time(time_skipping_env):
        ended = {
            currency: await stack.temporal.get_workflow_handle_for(
                RefillWorkflow.run, refill_workflow_id(uuid.UUID(refill_id))
            ).result()
            for currency, refill_id in refill_ids.items()
            if refill_id is not None
        }

    assert {c.currency: c.status for c in swept.currencies} == {
        "ETH": "nothing to sweep",
        "USDT": "nothing to sweep",
    }
    assert ended["ETH"].amount == str(25 * ETH)  # back to the target from nothing
    assert ended["USDT"].amount == str(2_500_000 * 10**6)
    assert {view.status for view in ended.values()} == {"expired"}
    assert ended["ETH"].requested_by == "system:sweep"
    assert len(ended["ETH"].approvals) == 1
    for refill_id in refill_ids.values():
        assert refill_id is not None
        assert get_refill(stack.engine, uuid.UUID(refill_id)).status.value == "expired"
    await record_history(sweep, "refill-raised")
    await record_history(eth_refill, "expired")


async def _approvals(handle: WorkflowHandle[RefillWorkflow, RefillView], count: int) -> bool:
    return len((await viewed(handle)).approvals) == count


async def test_a_refill_counts_the_same_approver_once_and_completes_with_a_second(
    skipping_treasury: TreasuryStack, record_history: Recorder
) -> None:
    stack = skipping_treasury
    stack.fund_cold(10 * ETH, Currency.ETH)
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    refill = await start_refill(stack, 2 * ETH, uuid.UUID(alice))

    await refill.signal(RefillWorkflow.approve, RefillDecision(alice, "payouts due"))
    await refill.signal(RefillWorkflow.approve, RefillDecision(alice, "really, me again"))
    once = await eventually(lambda: _ignored_once(refill), what="the repeat approval ignored")
    await refill.signal(RefillWorkflow.approve, RefillDecision(bob, "checked the books"))
    await eventually(lambda: _status(refill, "awaiting_transaction"), what="two approvals")
    signed_offline = send_eth(stack.chain, stack.cold_key, stack.hot_address, 2 * ETH)
    confirming = await refill.execute_update(
        RefillWorkflow.submit_transaction,
        RefillTransactionSubmission(staff_id=bob, tx_hash=signed_offline.tx_hash),
    )
    stack.mine(CONFIRMATIONS)
    done = await refill.result()

    assert (once.status, once.approvals) == ("awaiting_approval", (alice,))
    assert confirming.status == "confirming"
    assert done.status == "completed"
    assert done.approvals == (alice, bob)
    assert done.tx_hash == signed_offline.tx_hash
    assert stack.ledger(stack.cold_account(Currency.ETH)) == stack.on_chain(
        stack.cold_address, Currency.ETH
    )
    await record_history(refill, "completed")


async def _ignored_once(handle: WorkflowHandle[RefillWorkflow, RefillView]) -> RefillView | None:
    view = await viewed(handle)
    return view if view.ignored_approvals == 1 and view.approvals else None


async def _status(handle: WorkflowHandle[RefillWorkflow, RefillView], status: str) -> bool:
    return (await viewed(handle)).status == status


async def test_deposits_consolidated_into_the_hot_wallet_are_then_swept_to_cold(
    skipping_treasury: TreasuryStack, record_history: Recorder
) -> None:
    stack = skipping_treasury
    stack.credited_deposit(Currency.ETH, 70 * ETH)
    cold_before = stack.on_chain(stack.cold_address, Currency.ETH)

    async with mining(stack):
        consolidation = await stack.temporal.start_workflow(
            ConsolidationWorkflow.run,
            ConsolidationInput(),
            id=f"consolidation-eth-{uuid.uuid4()}",
            task_queue=stack.task_queue,
        )
        consolidated = await consolidation.result()
        sweep = await stack.temporal.start_workflow(
            SweepWorkflow.run,
            SweepInput(),
            id=f"sweep-eth-{uuid.uuid4()}",
            task_queue=stack.task_queue,
        )
        swept = await sweep.result()

    moved = 70 * ETH - 21_000 * 200 * GWEI
    assert consolidated.consolidated == {"ETH": str(moved)}
    by_currency = {c.currency: c for c in swept.currencies}
    assert by_currency["ETH"].status == "completed"
    swept_eth = int(by_currency["ETH"].amount)
    assert stack.on_chain(stack.cold_address, Currency.ETH) - cold_before == swept_eth
    assert stack.on_chain(stack.hot_address, Currency.ETH) >= 25 * ETH
    await record_history(consolidation, "consolidated")
    await record_history(sweep, "swept")
