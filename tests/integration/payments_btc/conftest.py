"""Bitcoin payments through the same workflows as Ethereum's, on the regtest simulator.

Each module gets its own simulated chain (``tests/btc_simulator``), served over
bitcoind's JSON-RPC wire format on a local port; the worker reaches it through the
production backend (``BitcoindRpc`` built from the settings, as a deployment does), with
the session's PostgreSQL and Temporal dev server, the module's own task queue and its
own hot-wallet index. No real bitcoind runs anywhere in the suite.

Before the worker starts, a player's wallet (``payer``) and the hot wallet hold mature
coinbase coins, and the hot wallet's coins are booked in the ledger (an opening balance
from the house), so the ledger's hot wallet follows the chain.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import Engine, delete, select
from temporalio.client import Client

from croupier.chains.bitcoin.addresses import script_to_address
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.ledger import AccountKind
from croupier.ledger.schema import transfers
from croupier.payments.keys import (
    scanner_workflow_id,
    sender_workflow_id,
    withdrawal_transfer_id,
)
from croupier.payments.rules import PaymentRules
from croupier.payments.tables import chain_cursors
from croupier.treasury.hd import HOT_WALLET_ACCOUNT
from croupier.treasury.keystore import KEYSTORE_FILE_NAME
from croupier.treasury.local_keystore import LocalKeyStore
from croupier.treasury.secret import Secret
from croupier.treasury.signer import HDSigner
from croupier.workers import registry
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from croupier.workflows.deposit_scanner import DepositScannerInput, DepositScannerWorkflow
from croupier.workflows.payments_client import PaymentsClient
from croupier.workflows.withdrawal import WithdrawalView
from tests.btc_simulator.chain import COINBASE_MATURITY, RegtestSimulator
from tests.btc_simulator.rpc_server import RunningRpcServer, serve
from tests.btc_simulator.wallets import NETWORK, PlayerWallet, miner_address, outsider_key
from tests.integration.payments.conftest import (
    KEYSTORE_PASSPHRASE,
    eventually,
    record_hot_wallet_funding,
    system_balance,
    terminate,
)
from tests.integration.payments.conftest import keystore_dir as keystore_dir
from tests.integration.payments.conftest import test_signer as test_signer

CHAIN = "bitcoin"
CONFIRMATIONS = 3
BTC = 100_000_000
RPC_USER = "croupier"
RPC_PASSWORD = "regtest-rpc-password"
# The module's withdrawal rules (whole BTC): fee 1,000 sat, auto-approved up to 0.01 BTC.
FEE_SAT = 1_000
AUTO_APPROVE_SAT = BTC // 100
PAYER_COINS = 4
HOT_COINS = 2
FINAL = {"completed", "failed", "rejected", "cancelled", "expired"}


@dataclass
class BtcStack:
    """One module's world: its simulated chain and RPC server, its worker, its wallets."""

    settings: Settings
    # What the module changed in the session's settings (an API app takes the same).
    overrides: dict[str, Any]
    temporal: Client
    task_queue: str
    engine: Engine
    chain: RegtestSimulator
    rpc: RunningRpcServer
    client: BitcoinClient
    signer: HDSigner
    hot_address: str
    payer: PlayerWallet

    async def deposit_address(self, user_id: uuid.UUID) -> str:
        """The player's address as production issues it: through the worker, which
        imports it into the node's watch-only wallet."""
        assigned = await self.payments().deposit_address(user_id, CHAIN)
        return assigned.address

    def mine(self, blocks: int = 1, *, include: list[str] | None = None) -> list[str]:
        """Mine blocks paying a miner; ``include`` ([]: empty blocks) picks the first's txs."""
        return self.chain.mine(blocks, miner_address(), include=include)

    def head(self) -> int:
        return self.client.head_number()

    def payments(self) -> PaymentsClient:
        return PaymentsClient(self.temporal, self.task_queue)

    def received(self, address: str) -> int:
        """What ``address`` holds confirmed on chain, read off the chain itself: importing
        it here would hide a missing import in the code under test."""
        return self.chain.confirmed_balance(address)


def btc_overrides(rpc_url: str, **overrides: Any) -> dict[str, Any]:
    """Short confirmations and timers, the simulator's node, the module's queue and keys."""
    values: dict[str, Any] = {
        "btc_rpc_url": rpc_url,
        "btc_rpc_user": RPC_USER,
        "btc_rpc_password": SecretStr(RPC_PASSWORD),
        "btc_network": NETWORK.value,
        "btc_confirmations": CONFIRMATIONS,
        # A window longer than a scan batch: reorg checks read it in several calls.
        "btc_reorg_window_blocks": 8,
        "btc_scan_batch_blocks": 4,
        "deposit_poll_interval_s": 0.2,
        "deposit_scanner_poll_s": 0.2,
        "deposit_orphan_timeout_s": 3,
        "hot_wallet_poll_s": 0.2,
        "hot_wallet_stuck_after_s": 600,
        "hot_wallet_index": random.randrange(1, 2**31 - 1),
        "withdrawal_new_account_age_s": 0,
        "withdrawal_breaker_new_account_age_s": 0,
        "withdrawal_minimum": {"ETH": "0.001", "BTC": "0.0001"},
        "withdrawal_fee": {"ETH": "0.0001", "BTC": "0.00001"},
        "withdrawal_auto_approve_limit": {"ETH": "0.5", "BTC": "0.01"},
        "deposit_dust_minimum": {"ETH": "0.0001", "BTC": "0.00001"},
        "temporal_task_queue": f"payments-btc-{uuid.uuid4().hex[:8]}",
    }
    values.update(overrides)
    return values


@pytest.fixture(scope="module")
def btc_chain() -> Iterator[tuple[RegtestSimulator, RunningRpcServer]]:
    chain = RegtestSimulator()
    with serve(chain, user=RPC_USER, password=RPC_PASSWORD) as running:
        yield chain, running


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def btc_stack(
    request: pytest.FixtureRequest,
    btc_chain: tuple[RegtestSimulator, RunningRpcServer],
    settings: Settings,
    engine: Engine,
    temporal_client: Client,
    keystore_dir: Path,
    test_signer: HDSigner,
) -> AsyncIterator[BtcStack]:
    chain, rpc = btc_chain
    changed = btc_overrides(rpc.url, **getattr(request.module, "SETTINGS", {}))
    module = settings.model_copy(update=changed)
    client = BitcoinClient.from_settings(module)
    hot_address = test_signer.btc_address(
        module.hot_wallet_index, NETWORK, account=HOT_WALLET_ACCOUNT
    )
    payer = PlayerWallet(outsider_key(random.randrange(100, 10_000)), chain)
    fund_wallets(chain, payer.key.address, hot_address)
    # Funded before any sender imports it: the operator's import with a rescan.
    client.watch([hot_address], rescan_from=0)
    record_hot_wallet_funding(engine, client.balance(hot_address, Currency.BTC), Currency.BTC)
    deps = registry.WorkerDeps(
        settings=module,
        engine=engine,
        temporal=temporal_client,
        bitcoin=client,
        keystore=lambda: LocalKeyStore(
            keystore_dir / KEYSTORE_FILE_NAME, Secret(KEYSTORE_PASSPHRASE)
        ),
    )
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with build_worker(temporal_client, module.temporal_task_queue, deps, executor):
            yield BtcStack(
                settings=module,
                overrides=changed,
                temporal=temporal_client,
                task_queue=module.temporal_task_queue,
                engine=engine,
                chain=chain,
                rpc=rpc,
                client=client,
                signer=test_signer,
                hot_address=hot_address,
                payer=payer,
            )
            await terminate(temporal_client, sender_workflow_id(CHAIN, hot_address))


def fund_wallets(chain: RegtestSimulator, *addresses: str) -> None:
    """Mature coinbase coins: ``PAYER_COINS`` for the first address, ``HOT_COINS`` each for
    the others, then the 100 blocks that make them spendable."""
    first, *others = addresses
    chain.mine(PAYER_COINS, first)
    for address in others:
        chain.mine(HOT_COINS, address)
    chain.mine(COINBASE_MATURITY, miner_address())


def fresh_address() -> str:
    """A P2WPKH address nobody in the test holds a key for (a player's own wallet)."""
    address = script_to_address(b"\x00\x14" + os.urandom(20), NETWORK)
    assert address is not None
    return address


def hot_wallet(stack: BtcStack) -> tuple[int, int]:
    """(ledger, chain) balances of the hot wallet; tests compare how both changed."""
    return (
        system_balance(stack.engine, AccountKind.HOT_WALLET, Currency.BTC).posted,
        stack.client.balance(stack.hot_address, Currency.BTC),
    )


def postings(stack: BtcStack, withdrawal_id: uuid.UUID, leg: str) -> list[int]:
    """The amounts of the ledger transfers of one withdrawal leg (one, or none)."""
    with stack.engine.connect() as conn:
        rows = conn.execute(
            select(transfers.c.amount).where(
                transfers.c.id == withdrawal_transfer_id(withdrawal_id, leg)
            )
        ).scalars()
        return [int(amount) for amount in rows]


async def request(stack: BtcStack, user_id: uuid.UUID, amount: int, to: str) -> uuid.UUID:
    withdrawal_id = uuid.uuid4()
    checked = PaymentRules(stack.settings).check_request("BTC", amount, to)
    await stack.payments().request_withdrawal(withdrawal_id, user_id, checked)
    return withdrawal_id


async def settled(stack: BtcStack, withdrawal_id: uuid.UUID) -> WithdrawalView:
    """Mine a block per look while the transaction is out, until the withdrawal ends."""

    async def final() -> WithdrawalView | None:
        view = await stack.payments().withdrawal(withdrawal_id)
        if view.status == "broadcast":
            stack.mine(1)
        return view if view.status in FINAL else None

    view: WithdrawalView = await eventually(final, what=f"withdrawal {withdrawal_id} final")
    return view


def forget_scanner_cursor(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(chain_cursors).where(chain_cursors.c.chain == CHAIN))


@pytest_asyncio.fixture(loop_scope="session")
async def scanner(btc_stack: BtcStack) -> AsyncIterator[BtcStack]:
    """The Bitcoin deposit scanner (``deposit-scanner-btc``) from the chain's head."""
    forget_scanner_cursor(btc_stack.engine)
    await btc_stack.temporal.start_workflow(
        DepositScannerWorkflow.run,
        DepositScannerInput(chain=CHAIN, start_block=btc_stack.head()),
        id=scanner_workflow_id(CHAIN),
        task_queue=btc_stack.task_queue,
    )
    yield btc_stack
    await terminate(btc_stack.temporal, scanner_workflow_id(CHAIN))
    forget_scanner_cursor(btc_stack.engine)
