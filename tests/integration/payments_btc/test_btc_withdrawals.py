"""Bitcoin withdrawals through the chain-neutral Withdrawal and Hot Wallet Sender workflows:
held, reviewed (automatically, or by compliance's signal), paid once by an RBF-signalling
transaction whose change returns to the hot wallet, and settled; or released.

Every path ends with the hold posted or released, the hot wallet's ledger balance moved
exactly as its balance on chain (the network fee booked from ``fees``), and the whole
ledger reconciling. Amounts stay within an unverified player's daily limit.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from croupier.chains.bitcoin.addresses import parse_address
from croupier.chains.bitcoin.signing import RBF_SEQUENCE
from croupier.core.money import Currency
from croupier.payments.btc_sends import spends
from croupier.payments.keys import sender_workflow_id
from croupier.payments.sends import find_send
from croupier.workflows.withdrawal import WithdrawalView
from tests.btc_simulator.wallets import NETWORK
from tests.integration.api.conftest import Api, ApiFactory, bearer
from tests.integration.api.conftest import api_factory as api_factory
from tests.integration.api.conftest import api_settings as api_settings
from tests.integration.payments.conftest import (
    assert_ledger_whole,
    cash,
    credit_player,
    new_player,
)
from tests.integration.payments_btc.conftest import (
    AUTO_APPROVE_SAT,
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


@pytest_asyncio.fixture(loop_scope="session")
async def api(api_factory: ApiFactory, btc_stack: BtcStack) -> AsyncIterator[Api]:
    async with api_factory(**btc_stack.overrides) as built:
        yield built


def assert_paid_once(
    stack: BtcStack, withdrawal_id: uuid.UUID, done: WithdrawalView, to: str, amount: int
) -> int:
    """One transaction paid ``amount`` to ``to``, signalled RBF on every input and sent its
    change home; the ledger booked it once, the network fee included. Returns the fee."""
    (only,) = spends(stack.engine, withdrawal_id)
    assert done.status == "completed", done
    assert done.tx_hash == only.txid
    mined = stack.chain.stored_tx(only.txid)
    assert mined is not None and all(seq == RBF_SEQUENCE for seq in mined.sequences)
    outputs = {script: value for value, script in mined.outputs}
    assert outputs[parse_address(to, NETWORK).script_pubkey] == amount
    change = only.signed.plan.change
    assert change is not None and change.address == stack.hot_address
    assert outputs[parse_address(stack.hot_address, NETWORK).script_pubkey] == change.amount_sat
    assert stack.received(to) == amount
    send = find_send(stack.engine, withdrawal_id)
    assert send is not None and send.fee_paid == only.signed.fee_sat
    for leg, expected in (("post", amount + FEE_SAT), ("payout", amount), ("fee", FEE_SAT)):
        assert postings(stack, withdrawal_id, leg) == [expected], leg
    assert postings(stack, withdrawal_id, "gas") == [only.signed.fee_sat]
    return only.signed.fee_sat


async def test_btc_deposit_address_and_an_auto_approved_btc_withdrawal_through_the_api(
    api: Api, btc_stack: BtcStack
) -> None:
    stack = btc_stack
    tokens = await api.player()
    headers = bearer(tokens["access_token"])
    me = (await api.client.get("/me", headers=headers)).json()
    player = uuid.UUID(me["id"])
    credit_player(stack.engine, player, BTC // 50, Currency.BTC)
    hot_before = hot_wallet(stack)
    recipient, amount = fresh_address(), BTC // 200

    address = await api.client.get("/deposits/address?currency=BTC", headers=headers)
    again = await api.client.get("/deposits/address?currency=btc", headers=headers)
    wrong_chain = await _withdraw(
        api, headers, amount, "0x52908400098527886E0F7030069857D2E4169Ee7"
    )
    wrong_network = await _withdraw(
        api, headers, amount, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    )
    accepted = await _withdraw(api, headers, amount, recipient)
    assert accepted.status_code == 202, accepted.text
    withdrawal_id = uuid.UUID(accepted.json()["id"])
    done = await settled(stack, withdrawal_id)

    assert address.status_code == 200, address.text
    assert address.json()["chain"] == CHAIN
    assert address.json()["address"].startswith("bcrt1q")
    assert again.json()["address"] == address.json()["address"]
    assert (wrong_chain.status_code, wrong_chain.json()["type"]) == (
        422,
        "/problems/invalid_address",
    )
    assert (wrong_network.status_code, wrong_network.json()["type"]) == (
        422,
        "/problems/invalid_address",
    )
    assert accepted.json()["status"] in {"approved", "sending", "broadcast"}
    network_fee = assert_paid_once(stack, withdrawal_id, done, recipient, amount)
    balance = cash(stack.engine, player, Currency.BTC)
    assert (balance.posted, balance.pending) == (BTC // 50 - amount - FEE_SAT, 0)
    ledger, chain = hot_wallet(stack)
    assert ledger - hot_before[0] == chain - hot_before[1] == -(amount + network_fee)
    assert_ledger_whole(stack.engine)


async def test_a_btc_withdrawal_above_the_limit_is_sent_once_compliance_approves_by_signal(
    btc_stack: BtcStack,
) -> None:
    stack = btc_stack
    player = new_player(stack.engine)
    credit_player(stack.engine, player, BTC // 50, Currency.BTC)
    hot_before = hot_wallet(stack)
    recipient, amount = fresh_address(), AUTO_APPROVE_SAT + 1
    staff_id = uuid.uuid4()

    withdrawal_id = await request(stack, player, amount, recipient)
    waiting = await stack.payments().withdrawal(withdrawal_id)
    unsent = find_send(stack.engine, withdrawal_id)
    await stack.payments().decide_withdrawal(
        withdrawal_id, approve=True, staff_id=staff_id, reason="source of funds verified"
    )
    done = await settled(stack, withdrawal_id)

    assert waiting.status == "awaiting_approval"
    assert waiting.review_reasons == ("above_auto_approve_limit",)
    assert unsent is None
    assert done.decided_by == str(staff_id)
    network_fee = assert_paid_once(stack, withdrawal_id, done, recipient, amount)
    assert cash(stack.engine, player, Currency.BTC).posted == BTC // 50 - amount - FEE_SAT
    ledger, chain = hot_wallet(stack)
    assert ledger - hot_before[0] == chain - hot_before[1] == -(amount + network_fee)
    assert_ledger_whole(stack.engine)


async def test_a_rejected_btc_withdrawal_releases_the_hold_and_sends_nothing(
    btc_stack: BtcStack,
) -> None:
    stack = btc_stack
    player = new_player(stack.engine)
    credit_player(stack.engine, player, BTC // 50, Currency.BTC)
    recipient, amount = fresh_address(), AUTO_APPROVE_SAT + 1

    withdrawal_id = await request(stack, player, amount, recipient)
    held = cash(stack.engine, player, Currency.BTC)
    await stack.payments().decide_withdrawal(
        withdrawal_id, approve=False, staff_id=uuid.uuid4(), reason="documents do not match"
    )
    done = await settled(stack, withdrawal_id)
    stack.mine(1)

    assert held.pending == amount + FEE_SAT
    assert (done.status, done.decision_reason) == ("rejected", "documents do not match")
    balance = cash(stack.engine, player, Currency.BTC)
    assert (balance.posted, balance.pending) == (BTC // 50, 0)
    assert find_send(stack.engine, withdrawal_id) is None
    assert spends(stack.engine, withdrawal_id) == []
    assert stack.received(recipient) == 0
    assert postings(stack, withdrawal_id, "void") == [amount + FEE_SAT]
    assert_ledger_whole(stack.engine)


async def test_btc_sends_queue_at_one_sender_per_chain_and_hot_address(
    btc_stack: BtcStack,
) -> None:
    stack = btc_stack
    player = new_player(stack.engine)
    credit_player(stack.engine, player, BTC // 50, Currency.BTC)
    first = await request(stack, player, BTC // 1000, fresh_address())
    second = await request(stack, player, BTC // 1000, fresh_address())
    for withdrawal_id in (first, second):
        assert (await settled(stack, withdrawal_id)).status == "completed"

    sender = stack.temporal.get_workflow_handle(sender_workflow_id(CHAIN, stack.hot_address))
    description = await sender.describe()
    sends = [find_send(stack.engine, withdrawal_id) for withdrawal_id in (first, second)]
    coins = [
        {
            coin.outpoint
            for spend in spends(stack.engine, withdrawal_id)
            for coin in spend.signed.plan.inputs
        }
        for withdrawal_id in (first, second)
    ]

    assert sender.id == f"hot-wallet-btc-{stack.hot_address}"
    assert description.workflow_type == "HotWalletSender"
    assert all(send is not None and send.sender == stack.hot_address for send in sends)
    assert sends[0] is not None and sends[1] is not None
    assert sends[0].nonce < sends[1].nonce  # queued in order
    assert not coins[0] & coins[1]  # no coin is spent by two sends


async def _withdraw(api: Api, headers: dict[str, str], amount: int, address: str) -> Any:
    return await api.client.post(
        "/withdrawals",
        json={"currency": "BTC", "amount": str(amount), "address": address},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
