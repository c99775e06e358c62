"""Consolidation on a real chain: deposit addresses swept into the hot wallet, the ledger
following every movement.

One player deposited 50,000 USDT (and no ETH to pay gas with), another 45 ETH. The
first round tops the token address up with exactly the most its transfer can cost and
moves the ETH; the second moves the tokens. The coins change place, not owner: the hot
wallet's ledger moves exactly as its chain balance does, and what the ledger still
holds at the deposit addresses (``deposits_in_flight``) is what is left there on chain.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from croupier.core.money import Currency
from croupier.ledger import AccountKind, system_account
from croupier.payments.sends import house_transaction_hashes
from croupier.payments.tables import hot_wallet_sends
from croupier.sweeps.tables import treasury_movements
from croupier.workflows.consolidation import ConsolidationInput, ConsolidationWorkflow
from tests.integration.payments.conftest import ETH, USDT, assert_ledger_whole
from tests.integration.sweeps.support import TreasuryStack, mining

GWEI = 10**9
# The most a token transfer from a deposit address can cost: 100,000 gas at the cap.
TOKEN_FEE_BOUND = 100_000 * 200 * GWEI
COINS = (Currency.ETH, Currency.USDT)


def in_flight_ledger(stack: TreasuryStack, currency: Currency) -> int:
    return stack.ledger(system_account(stack.engine, AccountKind.DEPOSITS_IN_FLIGHT, currency).id)


def top_up_tx_hashes(stack: TreasuryStack, address: str) -> set[str]:
    with stack.engine.connect() as conn:
        rows = conn.execute(
            select(hot_wallet_sends.c.final_tx_hash)
            .join(
                treasury_movements, treasury_movements.c.send_id == hot_wallet_sends.c.withdrawal_id
            )
            .where(
                treasury_movements.c.kind == "top_up", treasury_movements.c.to_address == address
            )
        ).all()
    return {row.final_tx_hash for row in rows}


async def test_tokens_get_gas_first_then_move_and_the_ledger_follows_each_movement(
    treasury: TreasuryStack,
) -> None:
    stack = treasury
    stack.fund_hot(2 * ETH, Currency.ETH)  # pays the gas top-up
    token_address = stack.credited_deposit(Currency.USDT, 50_000 * USDT)
    eth_address = stack.credited_deposit(Currency.ETH, 45 * ETH)
    addresses = (token_address, eth_address)
    hot = {c: (stack.hot_ledger(c), stack.on_chain(stack.hot_address, c)) for c in COINS}
    parked = {c: in_flight_ledger(stack, c) for c in COINS}
    parked_on_chain = {c: sum(stack.on_chain(a, c) for a in addresses) for c in COINS}

    handle = await stack.temporal.start_workflow(
        ConsolidationWorkflow.run,
        ConsolidationInput(),
        id=f"consolidation-eth-test-{uuid.uuid4()}",
        task_queue=stack.task_queue,
    )
    async with mining(stack):
        result = await handle.result()

    assert (result.rounds, result.top_ups, result.consolidations, result.failed) == (2, 1, 2, 0)
    assert result.consolidated["USDT"] == str(50_000 * USDT)
    assert stack.on_chain(token_address, Currency.USDT) == 0
    assert 0 < stack.on_chain(token_address, Currency.ETH) < TOKEN_FEE_BOUND  # unused gas
    assert stack.on_chain(eth_address, Currency.ETH) < 21_000 * 200 * GWEI
    for currency in COINS:
        ledger_before, chain_before = hot[currency]
        chain_delta = stack.on_chain(stack.hot_address, currency) - chain_before
        assert stack.hot_ledger(currency) - ledger_before == chain_delta
        still_there = sum(stack.on_chain(a, currency) for a in addresses)
        parked_delta = in_flight_ledger(stack, currency) - parked[currency]
        assert parked_delta == still_there - parked_on_chain[currency]
    assert stack.hot_ledger(Currency.USDT) - hot[Currency.USDT][0] == 50_000 * USDT
    (top_up,) = top_up_tx_hashes(stack, token_address)
    assert house_transaction_hashes(stack.engine, {top_up}) == {top_up}
    assert_ledger_whole(stack.engine)
