"""Test actors on the simulated chain: fixed keys, funding by mining, and a player's wallet.

Keys derive once per process from a fixed seed (bitcoinlib derivation costs milliseconds
per key). The player's wallet is croupier's own planner and signer pointed at the
player's key, standing in for whatever wallet software a player uses; the simulator
validates what it produces like any other transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from croupier.chains.bitcoin.addresses import Bip84Key, derive_bip84
from croupier.chains.bitcoin.coins import SpendPolicy, TxOut, Utxo, plan_spend
from croupier.chains.bitcoin.fees import FeeTarget
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.chains.bitcoin.signing import SignedTransaction, sign_spend
from tests.btc_simulator.chain import COINBASE_MATURITY, RegtestSimulator

NETWORK = BtcNetwork.REGTEST
TEST_SEED = bytes(range(64))
COINBASE_SAT = 50 * 100_000_000
POLICY = SpendPolicy(
    network=NETWORK,
    dust_threshold_sat=546,
    max_inputs=20,
    min_relay_fee_sat_kvb=1000,
    max_fee_rate_sat_kvb=500_000,
)
FALLBACK_FEE_RATE_SAT_KVB = 2000

# Account 0 holds deposit addresses, account 1 the hot wallet, account 9 outsiders.
DEPOSIT_ACCOUNT = 0
HOT_ACCOUNT = 1
OUTSIDER_ACCOUNT = 9


@cache
def deposit_key(index: int) -> Bip84Key:
    return derive_bip84(TEST_SEED, NETWORK, index, account=DEPOSIT_ACCOUNT)


@cache
def hot_key() -> Bip84Key:
    return derive_bip84(TEST_SEED, NETWORK, 0, account=HOT_ACCOUNT)


@cache
def outsider_key(index: int) -> Bip84Key:
    """Keys the casino does not hold: players' own wallets, a miner, an attacker."""
    return derive_bip84(TEST_SEED, NETWORK, index, account=OUTSIDER_ACCOUNT)


def miner_address() -> str:
    return outsider_key(0).address


def fund(chain: RegtestSimulator, address: str, coins: int = 1) -> None:
    """Give ``address`` ``coins`` mature coinbase outputs of 50 BTC (one block each)."""
    for _ in range(coins):
        chain.mine(1, address)
    chain.mine(COINBASE_MATURITY, miner_address())


@dataclass(frozen=True)
class PlayerWallet:
    """A player's own wallet: one key, spending its coins with croupier's planner."""

    key: Bip84Key
    # The chain itself, not croupier's node wallet: a player's wallet is not the casino's
    # node, so paying from it must import nothing there.
    backend: RegtestSimulator

    def coins(self) -> list[Utxo]:
        unspent = self.backend.coins_of(self.key.address)
        return [Utxo(u.txid, u.vout, u.value_sat, u.address, u.confirmations) for u in unspent]

    def pay(
        self, payments: list[TxOut], *, fee_rate_sat_kvb: int = 2000, broadcast: bool = True
    ) -> SignedTransaction:
        plan = plan_spend(
            self.coins(),
            payments,
            change_address=self.key.address,
            target=FeeTarget(fee_rate_sat_kvb),
            policy=POLICY,
        )
        signed = sign_spend(plan, [self.key.signing_key], NETWORK)
        if broadcast:
            self.backend.send_raw_transaction(signed.raw, max_fee_rate_sat_kvb=0)
        return signed
