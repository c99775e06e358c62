"""One deposit-and-withdrawal story, run against the simulator directly and through
``BitcoindRpc`` over HTTP: both backends must tell it the same way."""

from __future__ import annotations

import pytest

from croupier.chains.base import TxState
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.bitcoin.coins import TxOut, plan_spend
from croupier.chains.bitcoin.errors import BtcFeeTooLow
from croupier.chains.bitcoin.fees import FeeTarget
from croupier.chains.bitcoin.rbf import plan_replacement
from croupier.chains.bitcoin.signing import SignedTransaction, sign_spend
from croupier.chains.follow import follow
from croupier.core.money import Currency
from tests.btc_simulator.chain import RegtestSimulator
from tests.btc_simulator.wallets import (
    COINBASE_SAT,
    NETWORK,
    POLICY,
    PlayerWallet,
    deposit_key,
    fund,
    hot_key,
    miner_address,
    outsider_key,
)

CONFIRMATIONS = 3
WINDOW_BLOCKS = 24
DEPOSIT = deposit_key(7).address
PAYEE = outsider_key(8).address


def withdraw(client: BitcoinClient, amount_sat: int, rate_sat_kvb: int) -> SignedTransaction:
    hot = hot_key()
    plan = plan_spend(
        client.utxos([hot.address]),
        [TxOut(PAYEE, amount_sat)],
        change_address=hot.address,
        target=FeeTarget(rate_sat_kvb),
        policy=POLICY,
    )
    return sign_spend(plan, [hot.signing_key], NETWORK)


def test_a_deposit_is_found_confirmed_reorged_and_found_again(
    chain: RegtestSimulator, client: BitcoinClient
) -> None:
    player = PlayerWallet(outsider_key(3), chain)
    fund(chain, player.key.address)
    start = chain.block_count()
    deposit = player.pay([TxOut(DEPOSIT, 123_456_789)])
    chain.mine(1, miner_address())

    step = follow(client, (), [DEPOSIT], start_block=start, window_size=WINDOW_BLOCKS)
    [seen] = step.transfers
    assert (seen.tx_hash, seen.log_index, seen.amount) == (deposit.txid, 0, 123_456_789)
    chain.mine(CONFIRMATIONS - 1, miner_address())
    assert client.transaction_status(deposit.txid).is_final(CONFIRMATIONS)

    chain.invalidate(CONFIRMATIONS)
    chain.mine(CONFIRMATIONS + 1, miner_address(), include=())
    step = follow(client, step.window, [DEPOSIT], start_block=start, window_size=WINDOW_BLOCKS)
    assert step.reorg is not None and step.reorg.orphans(seen.block_hash)
    assert client.transaction_status(deposit.txid).state is TxState.PENDING

    chain.mine(1, miner_address())
    step = follow(client, step.window, [DEPOSIT], start_block=start, window_size=WINDOW_BLOCKS)
    [again] = step.transfers
    assert (again.tx_hash, again.log_index, again.amount) == (deposit.txid, 0, 123_456_789)
    assert again.block_hash != seen.block_hash


def test_a_withdrawal_is_refused_underpriced_or_double_spent_and_is_bumped_through(
    chain: RegtestSimulator, client: BitcoinClient
) -> None:
    hot = hot_key().address
    client.watch([hot])
    fund(chain, hot, coins=2)
    assert client.balance(hot, Currency.BTC) == 2 * COINBASE_SAT

    with pytest.raises(BtcFeeTooLow, match="min relay fee not met"):
        client.broadcast(withdraw(client, 7_654_321, rate_sat_kvb=500).raw)

    stuck = withdraw(client, 7_654_321, rate_sat_kvb=client.fee_rate_sat_kvb())
    assert client.broadcast(stuck.raw) == stuck.txid
    assert client.transaction_status(stuck.txid).state is TxState.PENDING

    double_spend = sign_spend(
        plan_spend(
            (),
            [TxOut(outsider_key(9).address, 7_654_321)],
            change_address=hot,
            target=FeeTarget(client.fee_rate_sat_kvb()),
            policy=POLICY,
            required=stuck.plan.inputs,
        ),
        [hot_key().signing_key],
        NETWORK,
    )
    with pytest.raises(BtcFeeTooLow, match="insufficient fee"):
        client.broadcast(double_spend.raw)

    chain.fee_estimate_sat_kvb = 25_000
    replacement = sign_spend(
        plan_replacement(
            stuck,
            fee_rate_sat_kvb=client.fee_rate_sat_kvb(),
            utxos=client.utxos([hot]),
            change_address=hot,
            policy=POLICY,
        ),
        [hot_key().signing_key],
        NETWORK,
    )
    assert client.broadcast(replacement.raw) == replacement.txid
    assert client.transaction_status(stuck.txid).state is TxState.UNKNOWN

    chain.mine(CONFIRMATIONS, miner_address())
    status = client.transaction_status(replacement.txid)
    assert status.state is TxState.INCLUDED and status.is_final(CONFIRMATIONS)
    assert client.broadcast(replacement.raw) == replacement.txid  # already mined: a no-op
    assert client.balance(hot, Currency.BTC) == 2 * COINBASE_SAT - 7_654_321 - replacement.fee_sat
