"""Payments on real services: a private Anvil per module, the session's PostgreSQL and
Temporal dev server, and a worker of the module's own pointing at that Anvil.

Each module gets its own node (reorgs, automine off and mining on demand stay private),
its own task queue, and its own hot-wallet index: the hot address, its sender workflow
and its nonces are the module's alone, although the database is the session's. Keys
come from a local keystore made in a temporary directory from a known test mnemonic.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from eth_account import Account
from eth_typing import ChecksumAddress, HexStr
from sqlalchemy import Engine, delete
from temporalio.client import Client
from temporalio.service import RPCError
from web3 import Web3
from web3.types import RPCEndpoint

from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.token import deploy_token, mint_token
from croupier.chains.ethereum.tx import (
    Fees,
    SignedTx,
    UnsignedTx,
    address_of,
    erc20_transfer,
    market_fees,
    native_transfer,
    sign,
)
from croupier.chains.keys import SigningKey
from croupier.compliance.levels import kyc_level
from croupier.compliance.reviews import approve_automatically, run_checks
from croupier.compliance.sanctions import SAMPLE_LIST_PATH, SanctionsList
from croupier.core.clock import SystemClock
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.identity.passwords import HashingCost, Passwords
from croupier.identity.roles import Role
from croupier.identity.service import create_user
from croupier.ledger import (
    AccountKind,
    Balance,
    TransferRequest,
    TransferType,
    balance,
    player_account,
    system_account,
    transfer,
)
from croupier.ledger.reconcile import MAX_GRACE_S, reconcile
from croupier.payments.addresses import assign_deposit_address
from croupier.payments.keys import scanner_workflow_id, sender_workflow_id
from croupier.payments.tables import chain_cursors
from croupier.treasury.hd import HOT_WALLET_ACCOUNT, mnemonic_to_seed
from croupier.treasury.keystore import KEYSTORE_FILE_NAME
from croupier.treasury.local_keystore import LocalKeyStore
from croupier.treasury.secret import Secret
from croupier.treasury.signer import HDSigner
from croupier.workers import devstack, registry
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from croupier.workflows.deposit_scanner import DepositScannerInput, DepositScannerWorkflow
from tests.integration.compliance.people import claim, submit

# BIP-39's all-"abandon" test mnemonic: not one of Anvil's funded dev accounts.
TEST_MNEMONIC = Secret(
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
)
KEYSTORE_PASSPHRASE = "payments test passphrase"
CHAIN = "ethereum"
CONFIRMATIONS = 3
GWEI = 10**9
ETH = 10**18
USDT = 10**6
RECEIPT_TIMEOUT_S = 30
EVENTUALLY_TIMEOUT_S = 60.0

_passwords = Passwords(HashingCost(time_cost=1, memory_kib=8192))
_SANCTIONS = SanctionsList.load(SAMPLE_LIST_PATH)


@dataclass
class PaymentsStack:
    """One module's world: its node, its worker's settings and queue, its hot wallet."""

    settings: Settings
    # What the module changed in the session's settings (an API app takes the same).
    overrides: dict[str, Any]
    temporal: Client
    task_queue: str
    engine: Engine
    w3: Web3
    chain: EthereumClient
    signer: HDSigner
    token: ChecksumAddress
    funder: SigningKey
    hot_address: str

    def deposit_address(self, user_id: uuid.UUID) -> str:
        assigned = assign_deposit_address(self.engine, user_id, CHAIN, self.signer.eth_address)
        return assigned.address

    def mine(self, blocks: int = 1) -> None:
        node_rpc(self.w3, "anvil_mine", blocks)

    def head(self) -> int:
        return self.chain.head_number()


@pytest.fixture(scope="session")
def keystore_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding a local keystore of the test mnemonic's seed."""
    data_dir = tmp_path_factory.mktemp("payments-keys")
    data_dir.chmod(0o700)
    keystore = LocalKeyStore(data_dir / KEYSTORE_FILE_NAME, Secret(KEYSTORE_PASSPHRASE))
    keystore.store_seed(mnemonic_to_seed(TEST_MNEMONIC))
    return data_dir


@pytest.fixture(scope="session")
def test_signer() -> HDSigner:
    return HDSigner(mnemonic_to_seed(TEST_MNEMONIC))


def module_overrides(rpc_url: str, token: str, **overrides: Any) -> dict[str, Any]:
    """Short confirmations and timers, the module's own queue and hot wallet."""
    values: dict[str, Any] = {
        "eth_rpc_url": rpc_url,
        "usdt_contract_address": token,
        "eth_confirmations": CONFIRMATIONS,
        # A scan batch covers the window (the settings insist): 8 keeps steps small.
        "eth_reorg_window_blocks": 8,
        "eth_scan_batch_blocks": 8,
        "deposit_poll_interval_s": 0.2,
        "deposit_scanner_poll_s": 0.2,
        "deposit_orphan_timeout_s": 3,
        "hot_wallet_poll_s": 0.2,
        "hot_wallet_stuck_after_s": 2,
        "hot_wallet_index": random.randrange(1, 2**31 - 1),
        "withdrawal_new_account_age_s": 0,
        "withdrawal_minimum": {"ETH": "0.001", "USDT": "1"},
        "withdrawal_fee": {"ETH": "0.0001", "USDT": "0.5"},
        "withdrawal_auto_approve_limit": {"ETH": "0.5", "USDT": "500"},
        "deposit_dust_minimum": {"ETH": "0.0001", "USDT": "1"},
        "temporal_task_queue": f"payments-{uuid.uuid4().hex[:8]}",
        # Every test player is a new account: keep the circuit breaker's new-account
        # rule out of these tests (croupier.monitoring tests it).
        "withdrawal_breaker_new_account_age_s": 0,
    }
    values.update(overrides)
    return values


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(
    request: pytest.FixtureRequest,
    anvil_binary: Path,
    settings: Settings,
    engine: Engine,
    temporal_client: Client,
    keystore_dir: Path,
    test_signer: HDSigner,
) -> AsyncIterator[PaymentsStack]:
    overrides = getattr(request.module, "SETTINGS", {})
    with devstack.running_anvil(anvil_binary, name="anvil-payments") as url:
        w3 = connect(url)
        funder = funded_key(w3, 10_000 * ETH)
        token = deploy_token(w3, funder)
        changed = module_overrides(url, token, **overrides)
        module = settings.model_copy(update=changed)
        chain = EthereumClient.from_settings(module)
        deps = registry.WorkerDeps(
            settings=module,
            engine=engine,
            temporal=temporal_client,
            ethereum=chain,
            keystore=lambda: LocalKeyStore(
                keystore_dir / KEYSTORE_FILE_NAME, Secret(KEYSTORE_PASSPHRASE)
            ),
        )
        hot_address = test_signer.eth_address(module.hot_wallet_index, account=HOT_WALLET_ACCOUNT)
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            worker = build_worker(temporal_client, module.temporal_task_queue, deps, executor)
            async with worker:
                yield PaymentsStack(
                    settings=module,
                    overrides=changed,
                    temporal=temporal_client,
                    task_queue=module.temporal_task_queue,
                    engine=engine,
                    w3=w3,
                    chain=chain,
                    signer=test_signer,
                    token=token,
                    funder=funder,
                    hot_address=hot_address,
                )
                await terminate(temporal_client, sender_workflow_id(CHAIN, hot_address))


# -- chain -------------------------------------------------------------------------------


def connect(url: str) -> Web3:
    return Web3(Web3.HTTPProvider(url, exception_retry_configuration=None))


def node_rpc(w3: Web3, method: str, *params: Any) -> Any:
    """Call an Anvil control method (mining, reorgs, balances)."""
    response = w3.provider.make_request(RPCEndpoint(method), list(params))
    assert "error" not in response, response
    return response.get("result")


def funded_key(w3: Web3, amount_wei: int) -> SigningKey:
    """A brand-new account holding ``amount_wei`` (set by the node, no transaction)."""
    key = SigningKey(bytes(Account.create().key))
    node_rpc(w3, "anvil_setBalance", address_of(key), hex(amount_wei))
    return key


def fees(chain: EthereumClient) -> Fees:
    decision = market_fees(
        chain.fee_estimate(), priority_fee_wei=GWEI, max_fee_cap_wei=10**6 * GWEI
    )
    assert decision.fees is not None
    return decision.fees


def send_eth(chain: EthereumClient, key: SigningKey, to: str, amount_wei: int) -> SignedTx:
    """Sign and broadcast a plain ETH payment (mined at once where automine is on)."""
    sender = address_of(key)
    tx = native_transfer(
        chain_id=chain.chain_id(),
        sender=sender,
        nonce=chain.nonce(sender, include_pending=True),
        to=to,
        amount_wei=amount_wei,
        fees=fees(chain),
    )
    return broadcast(chain, tx, key)


def send_token(
    chain: EthereumClient, token: str, key: SigningKey, to: str, amount_minor: int
) -> SignedTx:
    sender = address_of(key)
    tx = erc20_transfer(
        chain_id=chain.chain_id(),
        sender=sender,
        nonce=chain.nonce(sender, include_pending=True),
        token=token,
        to=to,
        amount_minor=amount_minor,
        gas_limit=100_000,
        fees=fees(chain),
    )
    return broadcast(chain, tx, key)


def broadcast(chain: EthereumClient, tx: UnsignedTx, key: SigningKey) -> SignedTx:
    signed = sign(tx, key)
    assert chain.broadcast(signed.raw) == signed.tx_hash
    return signed


def wait_mined(w3: Web3, tx_hash: str) -> int:
    """The block the transaction was mined in."""
    receipt = w3.eth.wait_for_transaction_receipt(
        HexStr(tx_hash), timeout=RECEIPT_TIMEOUT_S, poll_latency=0.05
    )
    return int(receipt["blockNumber"])


def mint_usdt(stack: PaymentsStack, to: str, amount_minor: int) -> None:
    mint_token(stack.w3, stack.token, stack.funder, to, amount_minor)


# -- players and the ledger --------------------------------------------------------------


def new_player(engine: Engine) -> uuid.UUID:
    email = f"payer-{uuid.uuid4().hex[:12]}@example.com"
    user = create_user(
        engine, SystemClock(), _passwords, email, "correct horse battery staple", Role.PLAYER
    )
    return user.id


def verify_kyc(engine: Engine, user_id: uuid.UUID) -> None:
    """Give a player KYC level 1 the way a clean submission gets it (automatic approval)."""
    now = datetime.now(UTC)
    intake = submit(engine, user_id, claim())
    run_checks(engine, intake.submission_id, sanctions=_SANCTIONS, now=now)
    approve_automatically(engine, intake.review_id, now=now)
    assert kyc_level(engine, user_id) == 1


def cash(engine: Engine, user_id: uuid.UUID, currency: Currency) -> Balance:
    account = player_account(engine, str(user_id), AccountKind.PLAYER_CASH, currency)
    return balance(engine, account.id)


def system_balance(engine: Engine, kind: AccountKind, currency: Currency) -> Balance:
    return balance(engine, system_account(engine, kind, currency).id)


def credit_player(engine: Engine, user_id: uuid.UUID, amount: int, currency: Currency) -> None:
    """Give a player cash as a credited deposit would (test setup only)."""
    transfer(
        engine,
        TransferRequest(
            id=f"test-funding-{uuid.uuid4()}",
            debit_account_id=system_account(engine, AccountKind.DEPOSITS_IN_FLIGHT, currency).id,
            credit_account_id=player_account(
                engine, str(user_id), AccountKind.PLAYER_CASH, currency
            ).id,
            amount=amount,
            currency=currency,
            type=TransferType.DEPOSIT,
        ),
    )


def fund_hot_wallet(stack: PaymentsStack, amount_wei: int) -> None:
    """Put ETH in the hot wallet on chain and record it in the ledger (an opening balance
    from the house), so the ledger's hot wallet follows the chain exactly."""
    wait_mined(stack.w3, send_eth(stack.chain, stack.funder, stack.hot_address, amount_wei).tx_hash)
    record_hot_wallet_funding(stack.engine, amount_wei, Currency.ETH)


def record_hot_wallet_funding(engine: Engine, amount: int, currency: Currency) -> None:
    transfer(
        engine,
        TransferRequest(
            id=f"test-hot-wallet-funding-{uuid.uuid4()}",
            debit_account_id=system_account(engine, AccountKind.HOT_WALLET, currency).id,
            credit_account_id=system_account(engine, AccountKind.HOUSE, currency).id,
            amount=amount,
            currency=currency,
            type=TransferType.ADJUSTMENT,
        ),
    )


def assert_ledger_whole(engine: Engine) -> None:
    """Reconciliation of the whole (session) ledger finds nothing wrong."""
    report = reconcile(engine, grace_s=MAX_GRACE_S)
    assert report.ok, report.violations


# -- temporal ----------------------------------------------------------------------------


async def eventually(
    probe: Callable[[], Any], *, what: str, timeout_s: float = EVENTUALLY_TIMEOUT_S
) -> Any:
    """Poll ``probe`` (sync, or returning an awaitable) until it gives something truthy,
    and return that."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        found = probe()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


async def terminate(client: Client, workflow_id: str) -> None:
    with contextlib.suppress(RPCError):  # not running (any more)
        await client.get_workflow_handle(workflow_id).terminate(reason="test teardown")


def forget_scanner_cursor(engine: Engine) -> None:
    """The session database is shared by modules with different nodes: a scanner starts
    from a clean cursor."""
    with engine.begin() as conn:
        conn.execute(delete(chain_cursors).where(chain_cursors.c.chain == CHAIN))


async def start_scanner(stack: PaymentsStack, *, start_block: int) -> None:
    await stack.temporal.start_workflow(
        DepositScannerWorkflow.run,
        DepositScannerInput(chain=CHAIN, start_block=start_block),
        id=scanner_workflow_id(CHAIN),
        task_queue=stack.task_queue,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def scanner(stack: PaymentsStack) -> AsyncIterator[PaymentsStack]:
    """The deposit scanner running against the module's node from its current head."""
    forget_scanner_cursor(stack.engine)
    await start_scanner(stack, start_block=stack.head())
    yield stack
    await terminate(stack.temporal, scanner_workflow_id(CHAIN))
    forget_scanner_cursor(stack.engine)
