"""The Hot Wallet Sender on Bitcoin against a node that mines only when told: a stuck
withdrawal is bumped by an RBF replacement spending the same inputs, exactly one of its
transactions confirms, and the ledger books the replacement's fee once; a feerate above
the cap makes the sender wait rather than overpay."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest

from croupier.chains.base import TxState
from croupier.core.money import Currency
from croupier.payments.btc_sends import StoredSpend, spends
from croupier.payments.keys import sender_workflow_id
from croupier.workflows.hot_wallet_sender import HotWalletSenderWorkflow
from tests.integration.payments.conftest import (
    assert_ledger_whole,
    cash,
    credit_player,
    eventually,
    new_player,
)
from tests.integration.payments_btc.conftest import (
    BTC,
    CHAIN,
    FEE_SAT,
    BtcStack,
    fresh_address,
    hot_wallet,
    postings,
    request,
    settled,
)

CAP_SAT_VB = 50
SETTINGS = {"hot_wallet_stuck_after_s": 2, "btc_max_fee_rate_sat_vb": Decimal(CAP_SAT_VB)}
MARKET_SAT_KVB = 20_000  # 20 sat/vB: what the market asks once the first send is stuck


@pytest.fixture
def market(btc_stack: BtcStack) -> Iterator[BtcStack]:
    """The module's chain with its fee estimate restored afterwards."""
    yield btc_stack
    btc_stack.chain.fee_estimate_sat_kvb = None


def signed_for(stack: BtcStack, withdrawal_id: uuid.UUID) -> list[StoredSpend]:
    return spends(stack.engine, withdrawal_id)


async def test_a_stuck_btc_withdrawal_is_bumped_by_rbf_from_the_same_inputs_and_pays_once(
    market: BtcStack,
) -> None:
    stack = market
    player = new_player(stack.engine)
    credit_player(stack.engine, player, BTC // 50, Currency.BTC)
    hot_before = hot_wallet(stack)
    recipient, amount = fresh_address(), BTC // 200

    withdrawal_id = await request(stack, player, amount, recipient)
    (first,) = await eventually(lambda: signed_for(stack, withdrawal_id), what="the first send")
    await eventually(lambda: first.txid in stack.chain.mempool_txids(), what="it in the mempool")
    stack.mine(1, include=[])  # a block without it: the market moved past its feerate
    stack.chain.fee_estimate_sat_kvb = MARKET_SAT_KVB
    await eventually(lambda: len(signed_for(stack, withdrawal_id)) >= 2, what="a replacement")
    done = await settled(stack, withdrawal_id)

    attempts = signed_for(stack, withdrawal_id)
    (paid,) = [s for s in attempts if stack.client.transaction_status(s.txid).block_number]
    assert done.status == "completed", done
    assert done.tx_hash == paid.txid != first.txid
    for other in attempts:
        if other is not paid:
            assert stack.client.transaction_status(other.txid).state is TxState.UNKNOWN
    first_coins = {coin.outpoint for coin in first.signed.plan.inputs}
    assert first_coins <= {coin.outpoint for coin in paid.signed.plan.inputs}
    assert paid.signed.plan.payments == first.signed.plan.payments
    assert paid.signed.fee_sat > first.signed.fee_sat
    assert paid.signed.fee_rate_sat_kvb >= MARKET_SAT_KVB
    assert stack.received(recipient) == amount
    assert postings(stack, withdrawal_id, "payout") == [amount]
    assert postings(stack, withdrawal_id, "gas") == [paid.signed.fee_sat]
    balance = cash(stack.engine, player, Currency.BTC)
    assert (balance.posted, balance.pending) == (BTC // 50 - amount - FEE_SAT, 0)
    ledger, chain = hot_wallet(stack)
    assert ledger - hot_before[0] == chain - hot_before[1] == -(amount + paid.signed.fee_sat)
    assert_ledger_whole(stack.engine)


async def test_a_btc_feerate_above_the_cap_makes_the_sender_wait_instead_of_overpaying(
    market: BtcStack,
) -> None:
    stack = market
    stack.chain.fee_estimate_sat_kvb = 2 * CAP_SAT_VB * 1000
    player = new_player(stack.engine)
    credit_player(stack.engine, player, BTC // 50, Currency.BTC)
    sender = stack.temporal.get_workflow_handle(sender_workflow_id(CHAIN, stack.hot_address))

    withdrawal_id = await request(stack, player, BTC // 200, fresh_address())
    waiting = await eventually(lambda: _waiting_for_fees(sender), what="the sender waiting")
    unsigned_while_expensive = signed_for(stack, withdrawal_id)
    stack.chain.fee_estimate_sat_kvb = 5_000
    done = await settled(stack, withdrawal_id)

    assert "exceeds the cap" in waiting
    assert unsigned_while_expensive == []
    assert done.status == "completed", done
    (only,) = signed_for(stack, withdrawal_id)
    assert only.signed.fee_rate_sat_kvb <= CAP_SAT_VB * 1000
    assert_ledger_whole(stack.engine)


async def _waiting_for_fees(sender) -> str | None:  # type: ignore[no-untyped-def]
    view = await sender.query(HotWalletSenderWorkflow.view)
    return view.waiting if view.waiting and "cap" in view.waiting else None
