"""A worker process killed (SIGKILL) after broadcasting a withdrawal and before its
confirmations: a new worker finishes the job with the same transaction. Exactly one
transaction leaves the hot wallet, and the ledger posts the withdrawal once."""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import uuid
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import pytest
from eth_account import Account
from sqlalchemy import func, select

from croupier.chains.base import TxState
from croupier.core.money import Currency
from croupier.core.settings import Settings
from croupier.ledger.schema import transfers
from croupier.payments.keys import sender_workflow_id, withdrawal_transfer_id
from croupier.payments.rules import PaymentRules
from croupier.payments.sends import attempts
from croupier.payments.states import WithdrawalStatus
from croupier.payments.withdrawals import WithdrawalRecord, get_withdrawal
from croupier.treasury.hd import HOT_WALLET_ACCOUNT
from croupier.workers.processes import ManagedProcess
from croupier.workflows.payments_client import PaymentsClient
from tests.integration.payments.conftest import (
    CHAIN,
    CONFIRMATIONS,
    ETH,
    KEYSTORE_PASSPHRASE,
    PaymentsStack,
    assert_ledger_whole,
    cash,
    credit_player,
    eventually,
    new_player,
    node_rpc,
    record_hot_wallet_funding,
    send_eth,
    terminate,
    wait_mined,
)

WORKER_START_TIMEOUT_S = 60.0


class ModuleStack(Protocol):
    """What a worker's environment is made from (``PaymentsStack``, or Bitcoin's stack)."""

    settings: Settings
    overrides: dict[str, Any]


def worker_env(stack: ModuleStack, keystore_dir: Path, **changes: Any) -> dict[str, str]:
    """The environment of a ``croupier worker`` for this module's node, queue and keys."""
    values = {
        **stack.overrides,
        "database_url": stack.settings.database_url,
        "temporal_address": stack.settings.temporal_address,
        "data_dir": str(keystore_dir),
        "keystore_passphrase": KEYSTORE_PASSPHRASE,
        "deposit_scanner_enabled": False,
        "worker_metrics_port": 0,
        "temporal_metrics_port": 0,
        "log_level": "WARNING",
        **changes,
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("CROUPIER_")}
    for name, value in values.items():
        env[f"CROUPIER_{name.upper()}"] = _env_text(value)
    return env


def _env_text(value: Any) -> str:
    """A setting as pydantic-settings reads it from the environment (dicts as JSON)."""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.fixture
def crash_worker_env(stack: PaymentsStack, keystore_dir: Path) -> dict[str, str]:
    """A queue and a hot wallet nobody else uses, so only the subprocess workers serve
    this test's workflows."""
    return worker_env(
        stack,
        keystore_dir,
        temporal_task_queue=f"crash-{uuid.uuid4().hex[:8]}",
        hot_wallet_index=random.randrange(1, 2**31 - 1),
        hot_wallet_stuck_after_s=3600,  # no replacement: this test is about one send
    )


def start_worker(env: dict[str, str]) -> ManagedProcess:
    return ManagedProcess(
        "payments-worker", [sys.executable, "-m", "croupier.workers.cli", "worker"], env=env
    ).start()


def ledger_postings(stack: PaymentsStack, transfer_id: str) -> int:
    with stack.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(transfers).where(transfers.c.id == transfer_id)
            ).scalar_one()
        )


async def test_a_worker_killed_between_broadcast_and_confirmation_pays_exactly_once(
    stack: PaymentsStack, crash_worker_env: dict[str, str]
) -> None:
    hot_index = int(crash_worker_env["CROUPIER_HOT_WALLET_INDEX"])
    hot_address = stack.signer.eth_address(hot_index, account=HOT_WALLET_ACCOUNT)
    wait_mined(stack.w3, send_eth(stack.chain, stack.funder, hot_address, 2 * ETH).tx_hash)
    record_hot_wallet_funding(stack.engine, 2 * ETH, Currency.ETH)
    player = new_player(stack.engine)
    credit_player(stack.engine, player, ETH, Currency.ETH)
    recipient = Account.create().address
    payments = PaymentsClient(
        stack.temporal, crash_worker_env["CROUPIER_TEMPORAL_TASK_QUEUE"], WORKER_START_TIMEOUT_S
    )
    withdrawal_id = uuid.uuid4()
    request = PaymentRules(stack.settings).check_request("ETH", ETH // 10, recipient)

    node_rpc(stack.w3, "evm_setAutomine", False)  # the transaction waits in the mempool
    first = start_worker(crash_worker_env)
    second: ManagedProcess | None = None
    try:
        await payments.request_withdrawal(withdrawal_id, player, request)
        (sent,) = await eventually(
            lambda: attempts(stack.engine, withdrawal_id), what="the broadcast"
        )
        await eventually(
            lambda: stack.chain.transaction_status(sent.tx_hash).state is TxState.PENDING,
            what="the transaction in the node's mempool",
        )
        os.kill(first.pid, signal.SIGKILL)
        first.stop()
        stack.mine(CONFIRMATIONS)
        node_rpc(stack.w3, "evm_setAutomine", True)
        second = start_worker(crash_worker_env)
        done = await eventually(
            partial(_settled, stack, withdrawal_id), what="the withdrawal settled", timeout_s=120
        )
    finally:
        node_rpc(stack.w3, "evm_setAutomine", True)
        for worker in (first, second):
            if worker is not None and worker.alive():
                os.kill(worker.pid, signal.SIGKILL)  # quicker than a graceful shutdown
                worker.stop()
        await terminate(stack.temporal, sender_workflow_id(CHAIN, hot_address))

    assert done.status is WithdrawalStatus.COMPLETED, done
    assert done.tx_hash == sent.tx_hash
    assert [tx.tx_hash for tx in attempts(stack.engine, withdrawal_id)] == [sent.tx_hash]
    assert stack.chain.nonce(hot_address, include_pending=True) == 1
    assert stack.chain.balance(recipient, Currency.ETH) == ETH // 10
    for leg in ("hold", "post", "payout", "fee", "gas"):
        assert ledger_postings(stack, withdrawal_transfer_id(withdrawal_id, leg)) == 1, leg
    balance = cash(stack.engine, player, Currency.ETH)
    assert (balance.posted, balance.pending) == (ETH - ETH // 10 - ETH // 10_000, 0)
    assert_ledger_whole(stack.engine)


def _settled(stack: PaymentsStack, withdrawal_id: uuid.UUID) -> WithdrawalRecord | None:
    """The withdrawal's record once final (read from the database: a query would wait for
    the killed worker's sticky queue to time out first)."""
    record = get_withdrawal(stack.engine, withdrawal_id)
    return record if record.status.is_final else None
