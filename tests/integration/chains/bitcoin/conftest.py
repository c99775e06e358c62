"""Bitcoin over JSON-RPC: ``BitcoindRpc`` against the simulator served in bitcoind's wire
format on a local HTTP port. No real bitcoind is exercised here (none can be installed
where the suite runs); docker-compose's bitcoind is where the RPC backend meets one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from croupier.chains.bitcoin.backend import BitcoinBackend
from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.bitcoin.rpc import BitcoindRpc
from tests.btc_simulator.chain import RegtestSimulator
from tests.btc_simulator.fixtures import chain
from tests.btc_simulator.rpc_server import RunningRpcServer, serve
from tests.btc_simulator.wallets import FALLBACK_FEE_RATE_SAT_KVB, POLICY

__all__ = ["backend", "chain", "client", "rpc", "rpc_server"]
RPC_USER = "croupier"
RPC_PASSWORD = "regtest-password"
WATCH_WALLET = "croupier-watch"


@pytest.fixture
def rpc_server(chain: RegtestSimulator) -> Iterator[RunningRpcServer]:
    with serve(chain, user=RPC_USER, password=RPC_PASSWORD) as running:
        yield running


@pytest.fixture
def rpc(rpc_server: RunningRpcServer) -> Iterator[BitcoindRpc]:
    backend = BitcoindRpc(
        rpc_server.url, user=RPC_USER, password=RPC_PASSWORD, wallet=WATCH_WALLET, timeout_s=5
    )
    yield backend
    backend.close()


@pytest.fixture(params=["simulator", "bitcoind-json-rpc"])
def backend(request: pytest.FixtureRequest, chain: RegtestSimulator) -> BitcoinBackend:
    """The same node seen directly, and through the JSON-RPC backend over HTTP."""
    if request.param == "simulator":
        return chain
    rpc_backend: BitcoinBackend = request.getfixturevalue("rpc")
    return rpc_backend


@pytest.fixture
def client(backend: BitcoinBackend) -> BitcoinClient:
    return BitcoinClient(
        backend, policy=POLICY, fallback_fee_rate_sat_kvb=FALLBACK_FEE_RATE_SAT_KVB
    )
