"""The Bitcoin ChainClient over the simulator: headers, deposit scans, status, fees, coins."""

from __future__ import annotations

import itertools

import pytest

from croupier.chains.base import ChainClient, TxState
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.bitcoin.coins import TxOut, plan_spend
from croupier.chains.bitcoin.fees import FeeTarget
from croupier.chains.bitcoin.signing import sign_spend
from croupier.chains.follow import follow
from croupier.core.errors import InvalidInput, UnknownCurrency
from croupier.core.money import Currency
from tests.btc_simulator.chain import REGTEST_GENESIS_HASH, RegtestSimulator
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

WINDOW_BLOCKS = 24
DEPOSIT_A, DEPOSIT_B = deposit_key(0).address, deposit_key(1).address


@pytest.fixture
def player(chain: RegtestSimulator) -> PlayerWallet:
    wallet = PlayerWallet(outsider_key(3), chain)
    fund(chain, wallet.key.address)
    return wallet


def test_it_is_a_chain_client(client: BitcoinClient) -> None:
    assert isinstance(client, ChainClient)
    assert client.chain == Currency.BTC.chain


def test_headers_are_the_canonical_chain_from_genesis(
    chain: RegtestSimulator, client: BitcoinClient
) -> None:
    chain.mine(5, miner_address())
    genesis = client.header(0)
    assert genesis is not None and genesis.hash == REGTEST_GENESIS_HASH
    assert genesis.parent_hash == "0" * 64
    headers = client.headers(0, 9)  # stops at the head (5)
    assert [h.number for h in headers] == [0, 1, 2, 3, 4, 5]
    assert all(c.parent_hash == p.hash for p, c in itertools.pairwise(headers))
    assert client.header(6) is None


def test_ranges_are_bounded(client: BitcoinClient) -> None:
    with pytest.raises(InvalidInput):
        client.headers(0, client.max_scan_blocks)
    with pytest.raises(InvalidInput):
        client.scan(5, 4, [DEPOSIT_A])
    with pytest.raises(InvalidInput):
        client.header(-1)


def test_scan_reports_each_output_to_a_watched_address_with_its_vout(
    chain: RegtestSimulator, client: BitcoinClient, player: PlayerWallet
) -> None:
    first = chain.block_count() + 1
    sent = player.pay([TxOut(DEPOSIT_A, 700_000), TxOut(DEPOSIT_B, 300_000)])
    block_hash = chain.mine(1, miner_address())[0]
    result = client.scan(first, first, [DEPOSIT_A, DEPOSIT_B.upper()])
    assert [h.hash for h in result.headers] == [block_hash]
    assert [(t.tx_hash, t.log_index, t.to_address, t.amount) for t in result.transfers] == [
        (sent.txid, 0, DEPOSIT_A, 700_000),
        (sent.txid, 1, DEPOSIT_B, 300_000),
    ]
    assert all(t.block_number == first and t.block_hash == block_hash for t in result.transfers)
    assert all(t.currency is Currency.BTC and t.from_address == "" for t in result.transfers)


def test_scan_ignores_change_and_coinbase_outputs(
    chain: RegtestSimulator, client: BitcoinClient, player: PlayerWallet
) -> None:
    first = chain.block_count() + 1
    player.pay([TxOut(DEPOSIT_A, 700_000)])
    chain.mine(1, DEPOSIT_B)  # a coinbase paying a watched address
    result = client.scan(first, first, [DEPOSIT_B])
    assert result.transfers == ()


def test_a_transactions_status_follows_it_from_mempool_to_depth_and_through_a_reorg(
    chain: RegtestSimulator, client: BitcoinClient, player: PlayerWallet
) -> None:
    txid = player.pay([TxOut(DEPOSIT_A, 700_000)]).txid
    assert client.transaction_status(txid).state is TxState.PENDING
    block_hash = chain.mine(3, miner_address())[0]
    status = client.transaction_status(txid)
    assert status.state is TxState.INCLUDED and status.block_hash == block_hash
    assert status.confirmations == 3 and status.is_final(3) and not status.is_final(4)
    chain.invalidate(3)
    assert client.transaction_status(txid).state is TxState.PENDING
    chain.mine(1, miner_address(), include=())
    assert client.transaction_status(txid).state is TxState.PENDING


def test_a_dropped_transaction_is_unknown(
    chain: RegtestSimulator, client: BitcoinClient, player: PlayerWallet
) -> None:
    txid = player.pay([TxOut(DEPOSIT_A, 700_000)]).txid
    chain.mine(1, miner_address())
    chain.invalidate(1, drop={txid})
    chain.mine(2, miner_address())
    assert client.transaction_status(txid).state is TxState.UNKNOWN
    assert client.transaction_status("00" * 32).state is TxState.UNKNOWN
    with pytest.raises(InvalidInput):
        client.transaction_status("0x" + "00" * 32)


def test_the_feerate_is_the_estimate_floored_at_relay_and_capped(
    chain: RegtestSimulator, client: BitcoinClient
) -> None:
    assert client.fee_rate_sat_kvb() == 2000  # no estimate yet: the fallback
    chain.fee_estimate_sat_kvb = 500
    assert client.fee_rate_sat_kvb() == POLICY.min_relay_fee_sat_kvb
    chain.fee_estimate_sat_kvb = 7_500
    estimate = client.fee_estimate()
    assert (estimate.base_fee, estimate.priority_fee, estimate.fee_unit) == (7500, 0, "sat/kvB")
    chain.fee_estimate_sat_kvb = 10**9
    assert client.fee_rate_sat_kvb() == POLICY.max_fee_rate_sat_kvb


def test_broadcasting_twice_or_after_mining_is_a_no_op(
    chain: RegtestSimulator, client: BitcoinClient, player: PlayerWallet
) -> None:
    signed = player.pay([TxOut(DEPOSIT_A, 700_000)], broadcast=False)
    assert client.broadcast(signed.raw) == client.broadcast(signed.raw) == signed.txid
    chain.mine(1, miner_address())
    assert client.broadcast(signed.raw) == signed.txid


def test_own_unconfirmed_change_is_spendable_and_a_strangers_pending_payment_is_not(
    chain: RegtestSimulator, client: BitcoinClient, hot_address: str, player: PlayerWallet
) -> None:
    utxos = client.utxos([hot_address])
    plan = plan_spend(
        utxos,
        [TxOut(outsider_key(4).address, 60 * 10**8)],
        change_address=hot_address,
        target=FeeTarget(1000),
        policy=POLICY,
    )
    withdrawal = sign_spend(plan, [hot_key().signing_key], NETWORK)
    client.broadcast(withdrawal.raw)
    incoming = player.pay([TxOut(hot_address, 30 * 10**8)])
    pending = {u.txid: u for u in client.utxos([hot_address]) if u.confirmations == 0}
    assert pending[withdrawal.txid].from_own_wallet and pending[withdrawal.txid].spendable
    assert not pending[incoming.txid].from_own_wallet and not pending[incoming.txid].spendable


def test_balance_counts_confirmed_coins_of_a_watched_address(
    chain: RegtestSimulator, client: BitcoinClient, hot_address: str, player: PlayerWallet
) -> None:
    assert client.balance(hot_address, Currency.BTC) == 2 * COINBASE_SAT
    player.pay([TxOut(hot_address, 10**6)])
    assert client.balance(hot_address, Currency.BTC) == 2 * COINBASE_SAT
    chain.mine(1, miner_address())
    assert client.balance(hot_address, Currency.BTC) == 2 * COINBASE_SAT + 10**6
    with pytest.raises(UnknownCurrency):
        client.balance(hot_address, Currency.ETH)


def test_a_reorged_deposit_leaves_the_canonical_chain_and_re_mining_includes_it_again(
    chain: RegtestSimulator, client: BitcoinClient, player: PlayerWallet
) -> None:
    start = chain.block_count()  # the window keeps a block below the deposit's
    deposit = player.pay([TxOut(DEPOSIT_A, 700_000)])
    chain.mine(1, miner_address())
    step = follow(client, (), [DEPOSIT_A], start_block=start, window_size=WINDOW_BLOCKS)
    [seen] = step.transfers
    assert (seen.tx_hash, seen.log_index) == (deposit.txid, 0)

    chain.invalidate(1)
    chain.mine(2, miner_address(), include=())  # a longer branch without the deposit
    step = follow(client, step.window, [DEPOSIT_A], start_block=start, window_size=WINDOW_BLOCKS)
    assert step.reorg is not None and step.reorg.orphans(seen.block_hash)
    step = follow(client, step.window, [DEPOSIT_A], start_block=start, window_size=WINDOW_BLOCKS)
    assert step.transfers == ()
    assert client.transaction_status(deposit.txid).state is TxState.PENDING

    chain.mine(1, miner_address())
    step = follow(client, step.window, [DEPOSIT_A], start_block=start, window_size=WINDOW_BLOCKS)
    [again] = step.transfers
    assert (again.tx_hash, again.log_index, again.amount) == (deposit.txid, 0, 700_000)
    assert again.block_hash != seen.block_hash and again.block_number == seen.block_number + 2
