"""End to end on the real dev server and Anvil: a Reconciliation run finds an on-chain
transfer the ledger does not know, alerts, and records the run as not ok."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest_asyncio
from sqlalchemy import Engine, text
from temporalio.client import Client

from croupier.chains.ethereum.client import EthereumClient
from croupier.core.settings import Settings
from croupier.ledger import AccountKind, TransferType
from croupier.workers import registry
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from croupier.workflows.reconciliation import ReconciliationInput, ReconciliationWorkflow
from tests.integration.monitoring.conftest import ETH, Corner, fresh_address, pay_on_chain


@pytest_asyncio.fixture(loop_scope="session")
async def anvil_worker(
    temporal_client: Client, settings: Settings, engine: Engine, eth_client: EthereumClient
) -> AsyncIterator[str]:
    """A worker whose chain is the session's Anvil, on a queue of its own."""
    queue = f"reconciliation-{uuid.uuid4().hex[:8]}"
    deps = registry.WorkerDeps(
        settings=settings, engine=engine, temporal=temporal_client, ethereum=eth_client
    )
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with build_worker(temporal_client, queue, deps, executor):
            yield queue


async def test_a_scheduled_style_run_catches_an_unbooked_on_chain_transfer(
    temporal_client: Client, anvil_worker: str, engine: Engine, eth_client: EthereumClient
) -> None:
    corner = Corner(engine)
    address = fresh_address()
    hot = corner.open(AccountKind.HOT_WALLET, owner=address)
    corner.move(hot, corner.open(AccountKind.DEPOSITS_IN_FLIGHT), ETH, TransferType.REFILL)
    pay_on_chain(eth_client, address, ETH)
    pay_on_chain(eth_client, address, ETH // 10)  # the transfer nobody booked

    result = await temporal_client.execute_workflow(
        ReconciliationWorkflow.run,
        ReconciliationInput(account_ids=corner.ids),
        id=f"reconciliation-{uuid.uuid4()}",
        task_queue=anvil_worker,
    )

    assert not result.ok and result.ledger.violations == 0
    assert result.wallets.checked == 1 and result.wallets.mismatches == 1
    (wallet,) = result.wallets.wallets
    assert wallet["chain_balance"] == str(ETH + ETH // 10) and wallet["ledger_posted"] == str(ETH)
    with engine.connect() as conn:
        alerts = conn.execute(
            text("SELECT count(*) FROM alerts WHERE kind = 'wallet_mismatch' AND dedup_key = :k"),
            {"k": f"account-{hot.id}"},
        ).scalar_one()
    assert alerts == 1
