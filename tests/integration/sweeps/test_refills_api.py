"""A refill from cold through the API: two different treasury staff approve it (the same
person twice does not count), the transaction signed offline is checked and followed
to its confirmations, and the books follow the chain on both wallets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import select

from croupier.chains.ethereum.tx import address_of
from croupier.compliance.tables import audit_log
from croupier.core.money import Currency
from croupier.monitoring.wallets import check_wallets
from tests.integration.api.conftest import Api, ApiFactory
from tests.integration.api.conftest import api_factory as api_factory
from tests.integration.api.conftest import api_settings as api_settings
from tests.integration.payments.conftest import (
    ETH,
    assert_ledger_whole,
    eventually,
    funded_key,
    send_eth,
    wait_mined,
)
from tests.integration.sweeps.support import TreasuryStack, mining, post, treasury_staff


@pytest_asyncio.fixture(loop_scope="session")
async def api(api_factory: ApiFactory, treasury: TreasuryStack) -> AsyncIterator[Api]:
    async with api_factory(**treasury.overrides) as built:
        yield built


def audited_actions(stack: TreasuryStack, refill_id: str) -> list[tuple[str, str]]:
    with stack.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.actor, audit_log.c.action)
            .where(audit_log.c.subject == f"refill:{refill_id}")
            .order_by(audit_log.c.seq)
        ).all()
    return [(row.actor, row.action) for row in rows]


async def test_a_refill_takes_two_different_approvers_then_its_transaction_and_completes(
    api: Api, treasury: TreasuryStack
) -> None:
    stack = treasury
    stack.fund_cold(10 * ETH, Currency.ETH)
    hot_before = (stack.hot_ledger(Currency.ETH), stack.on_chain(stack.hot_address, Currency.ETH))
    (alice, alice_id), (bob, bob_id) = (
        await treasury_staff(api, stack.engine),
        await treasury_staff(api, stack.engine),
    )
    amount = 3 * ETH

    raised = await post(
        api, "/admin/refills", alice, {"currency": "ETH", "amount": str(amount), "reason": "test"}
    )
    assert raised.status_code == 201, raised.text
    refill = f"/admin/refills/{raised.json()['id']}"
    approved_once = await post(api, f"{refill}/approve", alice, {"reason": "payouts due"})
    approved_again = await post(api, f"{refill}/approve", alice, {"reason": "me again"})
    too_early = await post(api, f"{refill}/tx", alice, {"tx_hash": "0x" + "ab" * 32})
    approved_twice = await post(api, f"{refill}/approve", bob, {"reason": "checked"})

    async def status(expected: str) -> dict[str, Any] | None:
        view = (await api.client.get(refill, headers=alice)).json()
        return view if view["status"] == expected else None

    awaiting_tx = await eventually(lambda: status("awaiting_transaction"), what="two approvals")
    stranger = funded_key(stack.w3, 10 * ETH)
    not_from_cold = send_eth(stack.chain, stranger, stack.hot_address, amount)
    wait_mined(stack.w3, not_from_cold.tx_hash)
    wrong = await post(api, f"{refill}/tx", bob, {"tx_hash": not_from_cold.tx_hash})
    signed_offline = send_eth(stack.chain, stack.cold_key, stack.hot_address, amount)
    submitted = await post(api, f"{refill}/tx", bob, {"tx_hash": signed_offline.tx_hash})
    async with mining(stack):
        done = await eventually(lambda: status("completed"), what="the refill confirmed")

    assert raised.json()["status"] == "awaiting_approval"
    assert approved_once.status_code == 202, approved_once.text
    assert approved_again.status_code == 409
    assert approved_again.json()["type"] == "/problems/refill_already_approved_by_you"
    assert too_early.status_code == 409
    assert approved_twice.status_code == 202, approved_twice.text
    assert awaiting_tx["approvals"] == [alice_id, bob_id]
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["type"] == "/problems/refill_transaction_mismatch"
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "confirming"
    assert done["tx_hash"] == signed_offline.tx_hash
    assert done["cold_address"] == address_of(stack.cold_key)
    # The stranger's payment is the only coin in the hot wallet the ledger did not book.
    hot_ledger_delta = stack.hot_ledger(Currency.ETH) - hot_before[0]
    hot_chain_delta = stack.on_chain(stack.hot_address, Currency.ETH) - hot_before[1]
    assert hot_ledger_delta == amount == hot_chain_delta - amount
    cold = stack.cold_account(Currency.ETH)
    assert stack.ledger(cold) == stack.on_chain(stack.cold_address, Currency.ETH) < 7 * ETH
    assert (
        check_wallets(stack.engine, {"ethereum": stack.chain}, account_ids=[cold]).mismatches == ()
    )
    assert audited_actions(stack, raised.json()["id"]) == [
        (alice_id, "refill.request"),
        (alice_id, "refill.approve"),
        (bob_id, "refill.approve"),
        (bob_id, "refill.submit_transaction"),
    ]
    assert_ledger_whole(stack.engine)
