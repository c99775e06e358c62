"""The worker-start import of the BTC cold address: coins it got before are seen."""

from __future__ import annotations

from croupier.chains.bitcoin.client import BitcoinClient
from croupier.core.money import Currency
from croupier.core.settings import HotWalletPolicy, Settings
from croupier.workers.btc_watch import watch_cold_addresses
from tests.btc_simulator.chain import RegtestSimulator
from tests.btc_simulator.wallets import COINBASE_SAT, fund, outsider_key

COLD = outsider_key(7).address


def cold_settings(rescan_from: int) -> Settings:
    policy = HotWalletPolicy(cap="60", target="25", floor="5", cold_address=COLD)
    return Settings(treasury_hot_wallets={"BTC": policy}, btc_cold_rescan_from=rescan_from)


def test_the_cold_address_is_imported_with_a_rescan_so_its_old_coins_count(
    chain: RegtestSimulator, client: BitcoinClient
) -> None:
    fund(chain, COLD)  # long before any worker started
    assert client.balance(COLD, Currency.BTC) == 0  # not imported: the node cannot see it
    watch_cold_addresses(client, cold_settings(rescan_from=0))
    assert client.balance(COLD, Currency.BTC) == COINBASE_SAT == chain.confirmed_balance(COLD)


def test_a_rescan_that_starts_after_the_coins_misses_them(
    chain: RegtestSimulator, client: BitcoinClient
) -> None:
    fund(chain, COLD)
    watch_cold_addresses(client, cold_settings(rescan_from=chain.tip_time() + 86_400))
    assert client.balance(COLD, Currency.BTC) == 0
