"""A worker process killed (SIGKILL) after broadcasting a Bitcoin withdrawal and before
its confirmations: a new worker finishes the job with the same transaction. Exactly one
transaction pays, and the ledger posts the withdrawal once.

The workers are real ``croupier worker`` processes reaching the simulator through
``CROUPIER_BTC_RPC_URL``, as a deployment reaches bitcoind.
"""

from __future__ import annotations

import os
import random
import signal
import uuid
from functools import partial
from pathlib import Path

import pytest

from croupier.core.money import Currency
from croupier.payments.btc_sends import spends
from croupier.payments.keys import sender_workflow_id
from croupier.payments.rules import PaymentRules
from croupier.payments.states import WithdrawalStatus
from croupier.payments.withdrawals import WithdrawalRecord, get_withdrawal
from croupier.treasury.hd import HOT_WALLET_ACCOUNT
from croupier.workers.processes import ManagedProcess
from croupier.workflows.payments_client import PaymentsClient
from tests.btc_simulator.chain import COINBASE_MATURITY
from tests.btc_simulator.wallets import NETWORK
from tests.integration.payments.conftest import (
    assert_ledger_whole,
    cash,
    credit_player,
    eventually,
    new_player,
    record_hot_wallet_funding,
    terminate,
)
from tests.integration.payments.test_worker_crash import (
    WORKER_START_TIMEOUT_S,
    start_worker,
    worker_env,
)
from tests.integration.payments_btc.conftest import (
    BTC,
    CHAIN,
    CONFIRMATIONS,
    FEE_SAT,
    RPC_PASSWORD,
    BtcStack,
    fresh_address,
    postings,
)


def final_record(stack: BtcStack, withdrawal_id: uuid.UUID) -> WithdrawalRecord | None:
    """Read from the database: a query would wait for the killed worker's sticky queue."""
    record = get_withdrawal(stack.engine, withdrawal_id)
    return record if record.status.is_final else None


@pytest.fixture
def crash_worker_env(btc_stack: BtcStack, keystore_dir: Path) -> dict[str, str]:
    """A queue and a hot wallet nobody else uses, so only the subprocess workers serve
    this test's workflows."""
    return worker_env(
        btc_stack,
        keystore_dir,
        btc_rpc_password=RPC_PASSWORD,
        temporal_task_queue=f"crash-btc-{uuid.uuid4().hex[:8]}",
        hot_wallet_index=random.randrange(1, 2**31 - 1),
        hot_wallet_stuck_after_s=3600,  # no replacement: this test is about one send
    )


async def test_a_worker_killed_after_broadcasting_a_btc_withdrawal_pays_it_exactly_once(
    btc_stack: BtcStack, crash_worker_env: dict[str, str]
) -> None:
    stack = btc_stack
    hot_index = int(crash_worker_env["CROUPIER_HOT_WALLET_INDEX"])
    hot_address = stack.signer.btc_address(hot_index, NETWORK, account=HOT_WALLET_ACCOUNT)
    stack.chain.mine(1, hot_address)
    stack.mine(COINBASE_MATURITY)
    # Funded before any sender imports it: the operator's import with a rescan.
    stack.client.watch([hot_address], rescan_from=0)
    record_hot_wallet_funding(stack.engine, stack.received(hot_address), Currency.BTC)
    player = new_player(stack.engine)
    credit_player(stack.engine, player, BTC // 50, Currency.BTC)
    recipient, amount = fresh_address(), BTC // 200
    payments = PaymentsClient(
        stack.temporal, crash_worker_env["CROUPIER_TEMPORAL_TASK_QUEUE"], WORKER_START_TIMEOUT_S
    )
    withdrawal_id = uuid.uuid4()
    request = PaymentRules(stack.settings).check_request("BTC", amount, recipient)

    first = start_worker(crash_worker_env)
    second: ManagedProcess | None = None
    try:
        await payments.request_withdrawal(withdrawal_id, player, request)
        (sent,) = await eventually(
            lambda: spends(stack.engine, withdrawal_id), what="the signed transaction"
        )
        await eventually(
            lambda: sent.txid in stack.chain.mempool_txids(), what="the transaction broadcast"
        )
        os.kill(first.pid, signal.SIGKILL)
        first.stop()
        stack.mine(CONFIRMATIONS)
        second = start_worker(crash_worker_env)
        done = await eventually(
            partial(final_record, stack, withdrawal_id),
            what="the withdrawal settled",
            timeout_s=120,
        )
    finally:
        for worker in (first, second):
            if worker is not None and worker.alive():
                os.kill(worker.pid, signal.SIGKILL)  # quicker than a graceful shutdown
                worker.stop()
        await terminate(stack.temporal, sender_workflow_id(CHAIN, hot_address))

    assert done.status is WithdrawalStatus.COMPLETED, done
    assert done.tx_hash == sent.txid
    assert [spend.txid for spend in spends(stack.engine, withdrawal_id)] == [sent.txid]
    assert stack.received(recipient) == amount
    for leg, expected in (("hold", amount + FEE_SAT), ("payout", amount), ("fee", FEE_SAT)):
        assert postings(stack, withdrawal_id, leg) == [expected], leg
    assert postings(stack, withdrawal_id, "gas") == [sent.signed.fee_sat]
    balance = cash(stack.engine, player, Currency.BTC)
    assert (balance.posted, balance.pending) == (BTC // 50 - amount - FEE_SAT, 0)
    assert_ledger_whole(stack.engine)
