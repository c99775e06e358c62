"""A treasury test world: a private Anvil with DevUSDT, a worker (restartable) on its own
task queue and hot-wallet index, a cold key held by the test (it plays the offline signer),
and helpers to put coins where the ledger says they are.

The database and the Temporal server are the session's, so amounts are chosen to keep
other modules' deposit addresses out of consolidation (the minimums are far above what
their tests deposit) and the hot wallet's target above anything other modules reserve.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from web3 import Web3

from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.token import deploy_token, mint_token
from croupier.chains.ethereum.tx import address_of
from croupier.chains.keys import SigningKey
from croupier.core.money import Currency
from croupier.core.settings import HotWalletPolicy, Settings
from croupier.identity.roles import Role
from croupier.ledger import (
    AccountKind,
    TransferRequest,
    TransferType,
    balance,
    system_account,
    transfer,
)
from croupier.ledger.accounts import AccountSpec, open_account
from croupier.payments import deposits
from croupier.payments.addresses import assign_deposit_address
from croupier.payments.keys import sender_workflow_id
from croupier.treasury.hd import HOT_WALLET_ACCOUNT
from croupier.treasury.keystore import KEYSTORE_FILE_NAME
from croupier.treasury.local_keystore import LocalKeyStore
from croupier.treasury.secret import Secret
from croupier.treasury.signer import HDSigner
from croupier.workers import devstack, registry
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from tests.integration.api.conftest import Api, bearer
from tests.integration.payments.conftest import (
    CHAIN,
    ETH,
    KEYSTORE_PASSPHRASE,
    connect,
    funded_key,
    module_overrides,
    new_player,
    node_rpc,
    send_eth,
    send_token,
    terminate,
    wait_mined,
)

CONFIRMATIONS = 3


@dataclass
class TreasuryStack:
    settings: Settings
    # What the module changed in the session's settings (an API app takes the same).
    overrides: dict[str, Any]
    temporal: Client
    task_queue: str
    engine: Engine
    w3: Web3
    chain: EthereumClient
    signer: HDSigner
    token: str
    funder: SigningKey
    hot_address: str
    cold_key: SigningKey
    deps: registry.WorkerDeps
    executor: ThreadPoolExecutor
    worker: Worker | None = field(default=None)

    @property
    def cold_address(self) -> str:
        return address_of(self.cold_key)

    def mine(self, blocks: int = 1) -> None:
        node_rpc(self.w3, "anvil_mine", blocks)

    async def start_worker(self) -> None:
        assert self.worker is None
        self.worker = build_worker(self.temporal, self.task_queue, self.deps, self.executor)
        await self.worker.__aenter__()

    async def stop_worker(self) -> None:
        assert self.worker is not None
        await self.worker.__aexit__(None, None, None)
        self.worker = None

    # -- putting coins where the ledger says they are ------------------------------------

    def fund_hot(self, amount: int, currency: Currency) -> None:
        """Coins in the hot address on chain and in the ledger (an opening balance)."""
        if currency is Currency.ETH:
            wait_mined(self.w3, send_eth(self.chain, self.funder, self.hot_address, amount).tx_hash)
        else:
            mint_token(self.w3, self.token, self.funder, self.hot_address, amount)
        book_opening(
            self.engine,
            system_account(self.engine, AccountKind.HOT_WALLET, currency).id,
            amount,
            currency,
        )

    def fund_cold(self, amount: int, currency: Currency) -> None:
        """Coins at the cold address on chain and booked in its ledger account."""
        if currency is Currency.ETH:
            node_rpc(self.w3, "anvil_setBalance", self.cold_address, hex(amount))
        else:
            mint_token(self.w3, self.token, self.funder, self.cold_address, amount)
        book_opening(self.engine, self.cold_account(currency), amount, currency)

    def cold_account(self, currency: Currency) -> int:
        spec = AccountSpec(AccountKind.COLD_WALLET, self.cold_address, currency)
        return open_account(self.engine, spec).id

    def credited_deposit(self, currency: Currency, amount: int) -> str:
        """A new player's deposit of ``amount``, on chain and credited; its address."""
        player = new_player(self.engine)
        address = self.deposit_address(player)
        if currency is Currency.ETH:
            sent = send_eth(self.chain, self.funder, address, amount)
            log_index = -1
        else:
            mint_token(self.w3, self.token, self.funder, self.funder_address, amount)
            sent = send_token(self.chain, self.token, self.funder, address, amount)
            log_index = 0
        block = wait_mined(self.w3, sent.tx_hash)
        header = self.chain.header(block)
        assert header is not None
        sighting = deposits.Sighting(
            chain=CHAIN,
            tx_hash=sent.tx_hash,
            log_index=log_index,
            block_number=block,
            block_hash=header.hash,
            from_address=self.funder_address,
            to_address=address,
            currency=currency,
            amount=amount,
        )
        recorded = deposits.record_deposit(
            self.engine, sighting, dust_minimum=1, confirmations_required=CONFIRMATIONS
        )
        deposits.observe_included(
            self.engine,
            recorded.id,
            block_number=block,
            block_hash=header.hash,
            confirmations=CONFIRMATIONS,
        )
        deposits.credit_deposit(self.engine, recorded.id, deposits.admit_every_deposit)
        return address

    def deposit_address(self, player: uuid.UUID) -> str:
        return assign_deposit_address(self.engine, player, CHAIN, self.signer.eth_address).address

    @property
    def funder_address(self) -> str:
        return address_of(self.funder)

    # -- reading ---------------------------------------------------------------------------

    def ledger(self, account_id: int) -> int:
        return balance(self.engine, account_id).posted

    def hot_ledger(self, currency: Currency) -> int:
        return self.ledger(system_account(self.engine, AccountKind.HOT_WALLET, currency).id)

    def on_chain(self, address: str, currency: Currency) -> int:
        return self.chain.balance(address, currency)


def book_opening(engine: Engine, account_id: int, amount: int, currency: Currency) -> None:
    transfer(
        engine,
        TransferRequest(
            id=f"test-opening-{uuid.uuid4()}",
            debit_account_id=account_id,
            credit_account_id=system_account(engine, AccountKind.HOUSE, currency).id,
            amount=amount,
            currency=currency,
            type=TransferType.ADJUSTMENT,
        ),
    )


def treasury_overrides(url: str, token: str, cold: str, **extra: Any) -> dict[str, Any]:
    """The module's settings: short confirmations and timers, its own queue and hot
    wallet, and hot wallet limits far above what other modules' tests move."""
    return module_overrides(
        url,
        token,
        eth_confirmations=CONFIRMATIONS,
        treasury_hot_wallets={
            "ETH": HotWalletPolicy(cap="40", target="25", floor="10", cold_address=cold),
            "USDT": HotWalletPolicy(
                cap="4000000", target="2500000", floor="1000000", cold_address=cold
            ),
        },
        treasury_consolidation_minimum={"ETH": "40", "USDT": "40000"},
        **extra,
    )


@contextlib.asynccontextmanager
async def treasury_stack(
    *,
    anvil_binary: Path,
    settings: Settings,
    engine: Engine,
    temporal: Client,
    keystore_dir: Path,
    signer: HDSigner,
    **extra: Any,
) -> AsyncIterator[TreasuryStack]:
    with devstack.running_anvil(anvil_binary, name="anvil-treasury") as url:
        w3 = connect(url)
        funder = funded_key(w3, 100_000 * ETH)
        token = deploy_token(w3, funder)
        cold_key = funded_key(w3, 0)
        overrides = treasury_overrides(url, token, address_of(cold_key), **extra)
        module = settings.model_copy(update=overrides)
        chain = EthereumClient.from_settings(module)
        deps = registry.WorkerDeps(
            settings=module,
            engine=engine,
            temporal=temporal,
            ethereum=chain,
            keystore=lambda: LocalKeyStore(
                keystore_dir / KEYSTORE_FILE_NAME, Secret(KEYSTORE_PASSPHRASE)
            ),
        )
        hot_address = signer.eth_address(module.hot_wallet_index, account=HOT_WALLET_ACCOUNT)
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            stack = TreasuryStack(
                settings=module,
                overrides=overrides,
                temporal=temporal,
                task_queue=module.temporal_task_queue,
                engine=engine,
                w3=w3,
                chain=chain,
                signer=signer,
                token=token,
                funder=funder,
                hot_address=hot_address,
                cold_key=cold_key,
                deps=deps,
                executor=executor,
            )
            await stack.start_worker()
            try:
                yield stack
            finally:
                await terminate(temporal, sender_workflow_id(CHAIN, hot_address))
                await stack.stop_worker()


class Chain(Protocol):
    """A test chain that mines on demand (Anvil's stack, the Bitcoin simulator's)."""

    def mine(self, blocks: int = 1) -> object: ...


@contextlib.asynccontextmanager
async def mining(stack: Chain, *, every_s: float = 0.1) -> AsyncIterator[None]:
    """A block every ``every_s`` while the body runs: confirmations come by themselves."""

    async def mine_forever() -> None:
        while True:
            stack.mine(1)
            await asyncio.sleep(every_s)

    miner = asyncio.create_task(mine_forever())
    try:
        yield
    finally:
        miner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await miner


async def treasury_staff(api: Api, engine: Engine) -> tuple[dict[str, str], str]:
    """A treasury staff member signed in through the API: (auth headers, staff id)."""
    tokens = await api.staff(engine, Role.TREASURY)
    headers = bearer(tokens["access_token"])
    me = await api.client.get("/me", headers=headers)
    return headers, str(me.json()["id"])


async def post(api: Api, path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    """A money-moving POST, each with a fresh ``Idempotency-Key``."""
    return await api.client.post(
        path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )
