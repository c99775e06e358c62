"""Pytest fixtures over the simulator, imported by the Bitcoin test packages' conftests."""

from __future__ import annotations

import pytest

from croupier.chains.bitcoin.client import BitcoinClient
from tests.btc_simulator.chain import RegtestSimulator
from tests.btc_simulator.wallets import FALLBACK_FEE_RATE_SAT_KVB, POLICY, fund, hot_key


@pytest.fixture
def chain() -> RegtestSimulator:
    """A fresh regtest chain: the genesis block only."""
    return RegtestSimulator()


@pytest.fixture
def client(chain: RegtestSimulator) -> BitcoinClient:
    return BitcoinClient(chain, policy=POLICY, fallback_fee_rate_sat_kvb=FALLBACK_FEE_RATE_SAT_KVB)


@pytest.fixture
def hot_address(chain: RegtestSimulator, client: BitcoinClient) -> str:
    """The casino's hot wallet, watched, holding two mature 50 BTC coins."""
    address = hot_key().address
    client.watch([address])
    fund(chain, address, coins=2)
    return address
