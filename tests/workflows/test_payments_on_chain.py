"""Payment workflows on the time-skipping server against a private Anvil: hours of
waiting (a deposit's orphan timeout) pass in an instant, while activities talk to the
real node, database and keystore. These runs also record the payment workflows'
histories for the replay test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest_asyncio
from eth_account import Account
from sqlalchemy import Engine
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from croupier.activities.addresses import AddressRequest
from croupier.activities.deposits import DepositSighting
from croupier.chains.ethereum.client import EthereumClient
from croupier.chains.ethereum.token import deploy_token
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.monitoring.breaker import (
    BREAKER_RESUMED_SIGNAL,
    BreakerResumed,
    breaker_state,
    resume,
    trip,
)
from croupier.payments.keys import deposit_id, scanner_workflow_id, sender_workflow_id
from croupier.payments.rules import PaymentRules
from croupier.treasury.hd import HOT_WALLET_ACCOUNT
from croupier.treasury.keystore import KEYSTORE_FILE_NAME
from croupier.treasury.local_keystore import LocalKeyStore
from croupier.treasury.secret import Secret
from croupier.treasury.signer import HDSigner
from croupier.workers import devstack, registry
from croupier.workers.worker import ACTIVITY_THREADS, build_worker
from croupier.workflows.deposit import DepositInput, DepositOutcome, DepositWorkflow
from croupier.workflows.deposit_address import DepositAddressWorkflow
from croupier.workflows.deposit_scanner import DepositScannerInput, DepositScannerWorkflow
from croupier.workflows.payments_client import PaymentsClient
from tests.integration.payments.conftest import (
    CHAIN,
    CONFIRMATIONS,
    ETH,
    KEYSTORE_PASSPHRASE,
    PaymentsStack,
    cash,
    connect,
    credit_player,
    eventually,
    forget_scanner_cursor,
    fund_hot_wallet,
    funded_key,
    module_overrides,
    new_player,
    node_rpc,
    send_eth,
    terminate,
    wait_mined,
)
from tests.integration.payments.conftest import keystore_dir as keystore_dir
from tests.integration.payments.conftest import test_signer as test_signer
from tests.workflows.conftest import Recorder

# Polls five minutes apart, an orphan timeout of an hour: a dozen checks, skipped through.
SLOW_TIMERS = {"deposit_poll_interval_s": 300, "deposit_orphan_timeout_s": 3600}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def skipping_stack(
    anvil_binary: Path,
    settings: Settings,
    engine: Engine,
    time_skipping_env: WorkflowEnvironment,
    keystore_dir: Path,
    test_signer: HDSigner,
) -> AsyncIterator[PaymentsStack]:
    """A worker on the time-skipping server whose activities use a private node."""
    with devstack.running_anvil(anvil_binary, name="anvil-payments-skipping") as url:
        w3 = connect(url)
        funder = funded_key(w3, 1_000 * ETH)
        token = deploy_token(w3, funder)
        changed = module_overrides(url, token, **SLOW_TIMERS)
        module = settings.model_copy(update=changed)
        chain = EthereumClient.from_settings(module)
        deps = registry.WorkerDeps(
            settings=module,
            engine=engine,
            temporal=time_skipping_env.client,
            ethereum=chain,
            keystore=lambda: LocalKeyStore(
                keystore_dir / KEYSTORE_FILE_NAME, Secret(KEYSTORE_PASSPHRASE)
            ),
        )
        hot_address = test_signer.eth_address(module.hot_wallet_index, account=HOT_WALLET_ACCOUNT)
        with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
            client = time_skipping_env.client
            async with build_worker(client, module.temporal_task_queue, deps, executor):
                yield PaymentsStack(
                    settings=module,
                    overrides=changed,
                    temporal=client,
                    task_queue=module.temporal_task_queue,
                    engine=engine,
                    w3=w3,
                    chain=chain,
                    signer=test_signer,
                    token=token,
                    funder=funder,
                    hot_address=hot_address,
                )
                await terminate(client, sender_workflow_id(CHAIN, hot_address))


async def test_a_deposit_reorged_away_and_never_mined_again_is_orphaned_an_hour_later(
    skipping_stack: PaymentsStack, record_history: Recorder
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)
    payer = funded_key(stack.w3, 10 * ETH)
    stack.mine(2)
    sent = send_eth(stack.chain, payer, stack.deposit_address(player), ETH)
    block = wait_mined(stack.w3, sent.tx_hash)
    seen = stack.chain.scan(block, block, [stack.deposit_address(player)])
    (transfer,) = seen.transfers
    node_rpc(stack.w3, "anvil_reorg", 1, [])

    handle = await stack.temporal.start_workflow(
        DepositWorkflow.run,
        DepositInput(DepositSighting.of(transfer)),
        id=deposit_id(CHAIN, sent.tx_hash, transfer.log_index),
        task_queue=stack.task_queue,
    )
    outcome = await handle.result()

    assert outcome.status == "orphaned"
    assert cash(stack.engine, player, Currency.ETH).posted == 0
    await record_history(handle, "orphaned")


async def test_the_scanner_hands_a_deposit_to_its_workflow_which_credits_it(
    skipping_stack: PaymentsStack, record_history: Recorder
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)
    payer = funded_key(stack.w3, 10 * ETH)
    forget_scanner_cursor(stack.engine)
    scanner = await stack.temporal.start_workflow(
        DepositScannerWorkflow.run,
        DepositScannerInput(chain=CHAIN, start_block=stack.head() + 1),
        id=scanner_workflow_id(CHAIN),
        task_queue=stack.task_queue,
    )
    sent = send_eth(stack.chain, payer, stack.deposit_address(player), ETH)
    wait_mined(stack.w3, sent.tx_hash)
    stack.mine(CONFIRMATIONS)
    deposit = stack.temporal.get_workflow_handle_for(
        DepositWorkflow.run, deposit_id(CHAIN, sent.tx_hash, -1)
    )

    await eventually(lambda: _started(deposit), what="the scanner starting the deposit")
    outcome = await deposit.result()
    last_step = await scanner.query(DepositScannerWorkflow.last_step)
    await record_history(scanner, "running")
    await terminate(stack.temporal, scanner_workflow_id(CHAIN))
    forget_scanner_cursor(stack.engine)

    assert outcome.status == "credited"
    assert last_step is not None and last_step.tip is not None
    assert cash(stack.engine, player, Currency.ETH).posted == ETH
    await record_history(deposit, "credited")


async def test_an_approved_withdrawal_is_sent_by_the_hot_wallet_and_settled(
    skipping_stack: PaymentsStack, record_history: Recorder
) -> None:
    stack = skipping_stack
    fund_hot_wallet(stack, 2 * ETH)
    player = new_player(stack.engine)
    credit_player(stack.engine, player, ETH, Currency.ETH)
    recipient = Account.create().address
    payments = PaymentsClient(stack.temporal, stack.task_queue)
    withdrawal_id = uuid.uuid4()
    request = PaymentRules(stack.settings).check_request("ETH", ETH // 10, recipient)

    await payments.request_withdrawal(withdrawal_id, player, request)

    async def completed() -> bool:
        view = await payments.withdrawal(withdrawal_id)
        if view.status == "broadcast":
            stack.mine(1)
        return view.status == "completed"

    await eventually(completed, what="the withdrawal completed")
    assert stack.chain.balance(recipient, Currency.ETH) == ETH // 10
    sender = stack.temporal.get_workflow_handle(sender_workflow_id(CHAIN, stack.hot_address))
    await record_history(sender, "sent")
    withdrawal = stack.temporal.get_workflow_handle(f"withdrawal-{withdrawal_id}")
    await record_history(withdrawal, "completed")


async def test_a_deposit_address_is_derived_on_a_worker(
    skipping_stack: PaymentsStack, record_history: Recorder
) -> None:
    stack = skipping_stack
    player = new_player(stack.engine)

    handle = await stack.temporal.start_workflow(
        DepositAddressWorkflow.run,
        AddressRequest(user_id=str(player), chain=CHAIN),
        id=f"deposit-address-{player}-eth",
        task_queue=stack.task_queue,
    )
    assigned = await handle.result()

    index = assigned.hd_index
    assert assigned.address == stack.signer.eth_address(index)
    assert stack.deposit_address(player) == assigned.address
    await record_history(handle, "assigned")


async def _started(handle: WorkflowHandle[DepositWorkflow, DepositOutcome]) -> bool:
    try:
        await handle.describe()
    except RPCError:  # not started yet
        return False
    return True


async def test_a_withdrawal_parked_by_the_circuit_breaker_is_sent_once_it_resumes(
    skipping_stack: PaymentsStack, record_history: Recorder
) -> None:
    stack = skipping_stack
    fund_hot_wallet(stack, ETH)
    player = new_player(stack.engine)
    credit_player(stack.engine, player, ETH, Currency.ETH)
    recipient = Account.create().address
    payments = PaymentsClient(stack.temporal, stack.task_queue)
    withdrawal_id = uuid.uuid4()
    request = PaymentRules(stack.settings).check_request("ETH", ETH // 10, recipient)
    with stack.engine.begin() as conn:
        if not breaker_state(conn).tripped:
            trip(conn, "payments-test", "an incident drill")
    try:
        parked = await payments.request_withdrawal(withdrawal_id, player, request)
        with stack.engine.begin() as conn:
            resumed = resume(conn, "payments-test", "drill over")
        handle = stack.temporal.get_workflow_handle(f"withdrawal-{withdrawal_id}")
        await handle.signal(
            BREAKER_RESUMED_SIGNAL,
            BreakerResumed("payments-test", "drill over", str(resumed.resumed_at)),
        )

        async def completed() -> bool:
            view = await payments.withdrawal(withdrawal_id)
            if view.status == "broadcast":
                stack.mine(1)
            return view.status == "completed"

        await eventually(completed, what="the parked withdrawal completed")
    finally:
        with stack.engine.begin() as conn:
            if breaker_state(conn).tripped:
                resume(conn, "payments-test", "test teardown")

    assert parked.status == "paused_by_circuit_breaker"
    assert parked.review_reasons == ()
    assert stack.chain.balance(recipient, Currency.ETH) == ETH // 10
    await record_history(handle, "paused-then-resumed")
