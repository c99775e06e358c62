"""The hot-wallet sender against a node that mines only when told (automine off):
a stuck transaction is replaced with higher fees under the same nonce, and a market
above the fee cap makes the sender wait rather than overpay."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from eth_account import Account
from sqlalchemy import func, select

from croupier.core.money import Currency
from croupier.payments.keys import sender_workflow_id
from croupier.payments.rules import PaymentRules
from croupier.payments.sends import attempts
from croupier.payments.tables import hot_wallet_transactions
from croupier.workflows.hot_wallet_sender import HotWalletSenderWorkflow
from croupier.workflows.payments_client import PaymentsClient
from croupier.workflows.withdrawal import WithdrawalView
from tests.integration.payments.conftest import (
    CHAIN,
    ETH,
    GWEI,
    PaymentsStack,
    assert_ledger_whole,
    cash,
    credit_player,
    eventually,
    fund_hot_wallet,
    new_player,
    node_rpc,
)

FEE_CAP_GWEI = 100
SETTINGS = {"eth_max_fee_gwei_cap": Decimal(FEE_CAP_GWEI), "hot_wallet_stuck_after_s": 2}


@pytest.fixture
def manual_mining(stack: PaymentsStack) -> Iterator[PaymentsStack]:
    """The module's node with a funded hot wallet, a cheap market, and automine off."""
    fund_hot_wallet(stack, 5 * ETH)
    set_next_base_fee(stack, GWEI)
    stack.mine(1)
    node_rpc(stack.w3, "evm_setAutomine", False)
    yield stack
    node_rpc(stack.w3, "evm_setAutomine", True)


def set_next_base_fee(stack: PaymentsStack, base_fee_wei: int) -> None:
    node_rpc(stack.w3, "anvil_setNextBlockBaseFeePerGas", hex(base_fee_wei))


async def withdraw(stack: PaymentsStack, amount: int, to: str) -> uuid.UUID:
    """A player with cash asks for an auto-approved withdrawal (through the workflow
    client the API uses)."""
    player = new_player(stack.engine)
    credit_player(stack.engine, player, ETH, Currency.ETH)
    withdrawal_id = uuid.uuid4()
    request = PaymentRules(stack.settings).check_request("ETH", amount, to)
    view = await client(stack).request_withdrawal(withdrawal_id, player, request)
    assert view.status == "approved", view
    return withdrawal_id


def client(stack: PaymentsStack) -> PaymentsClient:
    return PaymentsClient(stack.temporal, stack.task_queue)


def signed_count(stack: PaymentsStack, withdrawal_id: uuid.UUID) -> int:
    with stack.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(hot_wallet_transactions.c.withdrawal_id == withdrawal_id)
            ).scalar_one()
        )


async def mined_until_final(stack: PaymentsStack, withdrawal_id: uuid.UUID) -> WithdrawalView:
    async def final() -> WithdrawalView | None:
        view = await client(stack).withdrawal(withdrawal_id)
        if view.status in {"completed", "failed"}:
            return view
        stack.mine(1)
        return None

    view: WithdrawalView = await eventually(final, what=f"withdrawal {withdrawal_id} final")
    return view


async def test_a_stuck_transaction_is_replaced_with_higher_fees_and_pays_once(
    manual_mining: PaymentsStack,
) -> None:
    stack = manual_mining
    recipient = Account.create().address
    nonce_before = stack.chain.nonce(stack.hot_address, include_pending=False)
    withdrawal_id = await withdraw(stack, ETH // 10, recipient)
    await eventually(lambda: signed_count(stack, withdrawal_id) == 1, what="the first send")

    set_next_base_fee(stack, 60 * GWEI)  # the market jumps past what the first one pays
    stack.mine(1)
    await eventually(lambda: signed_count(stack, withdrawal_id) == 2, what="a replacement")
    done = await mined_until_final(stack, withdrawal_id)

    first, replacement = attempts(stack.engine, withdrawal_id)
    assert done.status == "completed"
    assert first.tx.nonce == replacement.tx.nonce == nonce_before
    assert replacement.tx.fees.covers_replacement_of(first.tx.fees)
    assert first.tx.fees.max_fee_per_gas < 60 * GWEI <= replacement.tx.fees.max_fee_per_gas
    assert replacement.tx.fees.max_fee_per_gas <= FEE_CAP_GWEI * GWEI
    assert done.tx_hash == replacement.tx_hash
    assert stack.chain.transaction_status(first.tx_hash).block_number is None
    assert stack.chain.nonce(stack.hot_address, include_pending=True) == nonce_before + 1
    assert stack.chain.balance(recipient, Currency.ETH) == ETH // 10
    assert_ledger_whole(stack.engine)


async def test_fees_above_the_cap_make_the_sender_wait_instead_of_overpaying(
    manual_mining: PaymentsStack,
) -> None:
    stack = manual_mining
    set_next_base_fee(stack, 2 * FEE_CAP_GWEI * GWEI)
    stack.mine(1)
    recipient = Account.create().address
    withdrawal_id = await withdraw(stack, ETH // 10, recipient)
    sender = stack.temporal.get_workflow_handle(sender_workflow_id(CHAIN, stack.hot_address))

    waiting = await eventually(
        lambda: _waiting_reason(sender), what="the sender waiting for cheaper fees"
    )
    unsigned_while_expensive = signed_count(stack, withdrawal_id)
    set_next_base_fee(stack, GWEI)
    stack.mine(1)
    done = await mined_until_final(stack, withdrawal_id)

    assert "exceeds the cap" in waiting
    assert unsigned_while_expensive == 0
    assert done.status == "completed"
    (only,) = attempts(stack.engine, withdrawal_id)
    assert only.tx.fees.max_fee_per_gas <= FEE_CAP_GWEI * GWEI
    assert cash(stack.engine, done_player(done), Currency.ETH).pending == 0
    assert_ledger_whole(stack.engine)


async def _waiting_reason(sender) -> str | None:  # type: ignore[no-untyped-def]
    view = await sender.query(HotWalletSenderWorkflow.view)
    return view.waiting if view.waiting and "cap" in view.waiting else None


def done_player(view: WithdrawalView) -> uuid.UUID:
    return uuid.UUID(view.user_id)
