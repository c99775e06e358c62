"""The CROUPIER_BTC_* settings: exact feerates, consistent bounds, Bitcoin off without a URL."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from croupier.chains.bitcoin.client import BitcoinClient
from croupier.chains.bitcoin.coins import SpendPolicy
from croupier.chains.bitcoin.network import BtcNetwork
from croupier.core.errors import ConfigurationError
from croupier.core.settings import Settings


@pytest.fixture(autouse=True)
def _no_croupier_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("CROUPIER_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file


def settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


def test_the_defaults_make_a_regtest_policy_in_sat_per_kvb() -> None:
    policy = SpendPolicy.from_settings(settings(btc_min_relay_fee_sat_vb=Decimal("0.1")))
    assert policy.network is BtcNetwork.REGTEST
    assert policy.min_relay_fee_sat_kvb == 100
    assert policy.max_fee_rate_sat_kvb == 500_000
    assert policy.dust_threshold_sat == 546


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"btc_confirmations": 6, "btc_reorg_window_blocks": 6}, "CROUPIER_BTC_CONFIRMATIONS"),
        ({"btc_fallback_fee_rate_sat_vb": "0.5"}, "CROUPIER_BTC_MIN_RELAY_FEE_SAT_VB"),
        ({"btc_fallback_fee_rate_sat_vb": "600"}, "CROUPIER_BTC_MAX_FEE_RATE_SAT_VB"),
        ({"btc_min_relay_fee_sat_vb": "0.0001"}, "decimal places"),
        ({"btc_network": "signet"}, "regtest"),
        ({"btc_rpc_url": "tcp://node:8332"}, "http"),
        ({"btc_dust_threshold_sat": 100}, "294"),
    ],
)
def test_inconsistent_bitcoin_settings_are_refused(
    overrides: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        settings(**overrides)


def test_without_an_rpc_url_bitcoin_is_off() -> None:
    with pytest.raises(ConfigurationError, match="CROUPIER_BTC_RPC_URL"):
        BitcoinClient.from_settings(settings())


def test_with_an_rpc_url_the_client_uses_the_settings() -> None:
    client = BitcoinClient.from_settings(
        settings(
            btc_rpc_url="http://127.0.0.1:18443", btc_network="testnet", btc_scan_batch_blocks=5
        )
    )
    assert client.network is BtcNetwork.TESTNET and client.max_scan_blocks == 5
