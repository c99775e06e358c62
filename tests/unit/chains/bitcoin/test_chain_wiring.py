"""What the chain-neutral deposit and withdrawal workflows rely on from the Bitcoin client:
it refuses a node of another network, its reorg window may be longer than a scan batch,
and the market feerate is reported even above the cap (so a sender waits instead)."""

from __future__ import annotations

import dataclasses

import pytest

from croupier.chains.base import BlockHeader
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.follow import follow
from croupier.core.errors import ConfigurationError
from tests.btc_simulator.chain import RegtestSimulator
from tests.btc_simulator.wallets import (
    FALLBACK_FEE_RATE_SAT_KVB,
    POLICY,
    deposit_key,
    miner_address,
)

WINDOW_BLOCKS = 8
SCAN_BLOCKS = 3


def test_a_node_of_another_network_is_refused(chain: RegtestSimulator) -> None:
    mainnet_policy = dataclasses.replace(POLICY, network=BtcNetwork.BITCOIN)
    mainnet = BitcoinClient(chain, policy=mainnet_policy, fallback_fee_rate_sat_kvb=2000)
    regtest = BitcoinClient(chain, policy=POLICY, fallback_fee_rate_sat_kvb=2000)

    regtest.ensure_network()
    with pytest.raises(ConfigurationError, match="CROUPIER_BTC_NETWORK"):
        mainnet.ensure_network()


def test_a_reorg_window_longer_than_a_scan_batch_is_checked_in_batches(
    chain: RegtestSimulator,
) -> None:
    client = BitcoinClient(
        chain,
        policy=POLICY,
        fallback_fee_rate_sat_kvb=FALLBACK_FEE_RATE_SAT_KVB,
        max_scan_blocks=SCAN_BLOCKS,
    )
    watched = [deposit_key(0).address]
    chain.mine(12, miner_address())
    window: tuple[BlockHeader, ...] = ()
    for _ in range(5):
        window = follow(client, window, watched, start_block=1, window_size=WINDOW_BLOCKS).window
    assert len(window) == WINDOW_BLOCKS > SCAN_BLOCKS

    chain.invalidate(5)
    chain.mine(6, miner_address(), include=[])
    step = follow(client, window, watched, start_block=1, window_size=WINDOW_BLOCKS)

    assert step.reorg is not None and step.reorg.depth == 5
    assert step.window[-1] == window[-6]


def test_the_market_feerate_is_reported_above_the_cap_and_the_fee_estimate_is_capped(
    chain: RegtestSimulator, client: BitcoinClient
) -> None:
    chain.fee_estimate_sat_kvb = 2 * POLICY.max_fee_rate_sat_kvb

    assert client.market_fee_rate_sat_kvb() == 2 * POLICY.max_fee_rate_sat_kvb
    assert client.fee_rate_sat_kvb() == POLICY.max_fee_rate_sat_kvb
    assert client.fee_estimate().base_fee == POLICY.max_fee_rate_sat_kvb
