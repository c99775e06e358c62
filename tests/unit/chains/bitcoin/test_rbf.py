"""Fee bumping: a replacement the node accepts, that evicts the stuck one and pays once."""

from __future__ import annotations

import pytest

from croupier.chains.base import TxState
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.bitcoin.coins import TxOut, Utxo, plan_spend
from croupier.chains.bitcoin.errors import BtcFeeTooLow, FeeRateAboveCap, InsufficientUtxos
from croupier.chains.bitcoin.fees import FeeTarget
from croupier.chains.bitcoin.rbf import plan_replacement
from croupier.chains.bitcoin.signing import SignedTransaction, sign_spend
from tests.btc_simulator.chain import RegtestSimulator
from tests.btc_simulator.wallets import (
    COINBASE_SAT,
    NETWORK,
    POLICY,
    hot_key,
    miner_address,
    outsider_key,
)

PAYEE = outsider_key(5).address


def send(
    client: BitcoinClient,
    utxos: list[Utxo] | tuple[Utxo, ...],
    amount_sat: int,
    rate_sat_kvb: int,
    hot_address: str,
) -> SignedTransaction:
    plan = plan_spend(
        utxos,
        [TxOut(PAYEE, amount_sat)],
        change_address=hot_address,
        target=FeeTarget(rate_sat_kvb),
        policy=POLICY,
    )
    signed = sign_spend(plan, [hot_key().signing_key], NETWORK)
    client.broadcast(signed.raw)
    return signed


def bump(
    client: BitcoinClient,
    original: SignedTransaction,
    rate_sat_kvb: int,
    hot_address: str,
    evicted_descendants_fee_sat: int = 0,
) -> SignedTransaction:
    plan = plan_replacement(
        original,
        fee_rate_sat_kvb=rate_sat_kvb,
        utxos=client.utxos([hot_address]),
        change_address=hot_address,
        policy=POLICY,
        evicted_descendants_fee_sat=evicted_descendants_fee_sat,
    )
    return sign_spend(plan, [hot_key().signing_key], NETWORK)


def test_a_stuck_withdrawal_is_replaced_and_the_payee_is_paid_once(
    chain: RegtestSimulator, client: BitcoinClient, hot_address: str
) -> None:
    stuck = send(client, client.utxos([hot_address]), 10**6, 1000, hot_address)
    chain.fee_estimate_sat_kvb = 20_000  # the fee market spiked
    replacement = bump(client, stuck, client.fee_rate_sat_kvb(), hot_address)
    assert client.broadcast(replacement.raw) == replacement.txid
    assert chain.mempool_txids() == (replacement.txid,)
    assert replacement.fee_sat > stuck.fee_sat
    assert replacement.fee_rate_sat_kvb > stuck.fee_rate_sat_kvb >= 1000
    assert replacement.fee_rate_sat_kvb >= 20_000
    assert replacement.plan.inputs == stuck.plan.inputs
    assert replacement.plan.payments == stuck.plan.payments

    chain.mine(1, miner_address())
    assert client.transaction_status(replacement.txid).state is TxState.INCLUDED
    assert client.transaction_status(stuck.txid).state is TxState.UNKNOWN


def test_the_smallest_bump_still_beats_the_original_feerate(
    chain: RegtestSimulator, client: BitcoinClient, hot_address: str
) -> None:
    stuck = send(client, client.utxos([hot_address]), 10**6, 1000, hot_address)
    replacement = bump(client, stuck, 1000, hot_address)  # same requested rate
    assert client.broadcast(replacement.raw) == replacement.txid
    assert replacement.fee_rate_sat_kvb >= stuck.fee_rate_sat_kvb + POLICY.min_relay_fee_sat_kvb


def test_a_bump_the_change_cannot_pay_adds_a_confirmed_coin(
    chain: RegtestSimulator, client: BitcoinClient, hot_address: str
) -> None:
    [first, second] = client.utxos([hot_address])
    stuck = send(client, [first], COINBASE_SAT - 200, 1000, hot_address)  # no change
    assert stuck.plan.change is None
    replacement = bump(client, stuck, 20_000, hot_address)
    assert {u.outpoint for u in replacement.plan.inputs} == {first.outpoint, second.outpoint}
    assert replacement.plan.change is not None
    assert client.broadcast(replacement.raw) == replacement.txid


def test_a_bump_never_adds_an_unconfirmed_coin(hot_address: str) -> None:
    key = hot_key()
    coin = Utxo("11" * 32, 0, 100_000, key.address, 6)
    plan = plan_spend(
        [coin],
        [TxOut(PAYEE, 99_800)],
        change_address=key.address,
        target=FeeTarget(1000),
        policy=POLICY,
    )
    stuck = sign_spend(plan, [key.signing_key], NETWORK)
    own_change = Utxo("22" * 32, 1, 10**8, key.address, 0, from_own_wallet=True)
    with pytest.raises(InsufficientUtxos):
        plan_replacement(
            stuck,
            fee_rate_sat_kvb=20_000,
            utxos=[own_change],
            change_address=key.address,
            policy=POLICY,
        )


def test_a_bump_above_the_feerate_cap_needs_a_human(
    client: BitcoinClient, hot_address: str
) -> None:
    stuck = send(
        client, client.utxos([hot_address]), 10**6, POLICY.max_fee_rate_sat_kvb, hot_address
    )
    with pytest.raises(FeeRateAboveCap):
        bump(client, stuck, 1000, hot_address)


def test_a_bump_outbids_the_descendants_it_evicts_when_told_their_fees(
    chain: RegtestSimulator, client: BitcoinClient, hot_address: str
) -> None:
    stuck = send(client, client.utxos([hot_address]), 60 * 10**8, 1000, hot_address)
    own_change = [u for u in client.utxos([hot_address]) if u.txid == stuck.txid]
    child = send(client, own_change, 10**6, 50_000, hot_address)  # spends the stuck change
    too_cheap = bump(client, stuck, 5000, hot_address)
    with pytest.raises(BtcFeeTooLow, match="less fees than conflicting txs"):
        client.broadcast(too_cheap.raw)
    replacement = bump(client, stuck, 5000, hot_address, evicted_descendants_fee_sat=child.fee_sat)
    assert client.broadcast(replacement.raw) == replacement.txid
    assert chain.mempool_txids() == (replacement.txid,)
