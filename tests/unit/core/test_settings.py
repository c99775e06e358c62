"""Settings come from CROUPIER_* variables; a bad one is named in one clear line."""

from __future__ import annotations

import pytest

from croupier.core.errors import ConfigurationError
from croupier.core.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CROUPIER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(str(tmp_path))  # no stray .env file


def test_defaults_are_the_embedded_stack() -> None:
    settings = load_settings()
    assert settings.database_url is None
    assert settings.temporal_address == "127.0.0.1:7233"
    assert settings.sqlalchemy_url is None


def test_environment_overrides_with_the_croupier_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROUPIER_DATABASE_URL", "postgresql://u@db:5432/casino")
    monkeypatch.setenv("CROUPIER_API_PORT", "9000")
    settings = load_settings()
    assert settings.api_port == 9000
    assert settings.sqlalchemy_url == "postgresql+psycopg://u@db:5432/casino"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CROUPIER_API_PORT", "abc", "valid integer"),
        ("CROUPIER_API_PORT", "70000", "less than or equal to 65535"),
        ("CROUPIER_DATABASE_URL", "mysql://x@y/z", "PostgreSQL URL"),
        ("CROUPIER_TEMPORAL_ADDRESS", "localhost", "host:port"),
        ("CROUPIER_ETH_RPC_URL", "ws://node", "http(s) JSON-RPC URL"),
        ("CROUPIER_LOG_LEVEL", "LOUD", "DEBUG"),
    ],
)
def test_a_bad_variable_is_named_with_what_is_expected(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable}: ")
    assert expected in message
    assert repr(value) in message


def test_a_rejected_secret_is_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROUPIER_JWT_SECRET", "too-short-but-still-secret")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert str(caught.value).startswith("CROUPIER_JWT_SECRET: ")
    assert "too-short-but-still-secret" not in str(caught.value)


ETH_COLD = "0x" + "ab" * 20
BTC_COLD = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def _hot_wallets(currency: str, cold_address: str) -> str:
    return (
        f'{{"{currency}": {{"cap": "3", "target": "2", "floor": "1", '
        f'"cold_address": "{cold_address}"}}}}'
    )


def test_a_bitcoin_cold_address_is_accepted_for_btc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROUPIER_TREASURY_HOT_WALLETS", _hot_wallets("BTC", BTC_COLD))
    assert load_settings().treasury_hot_wallets["BTC"].cold_address == BTC_COLD


@pytest.mark.parametrize(
    ("currency", "cold_address"), [("BTC", ETH_COLD), ("ETH", BTC_COLD), ("USDT", BTC_COLD)]
)
def test_a_cold_address_of_another_chain_is_refused(
    monkeypatch: pytest.MonkeyPatch, currency: str, cold_address: str
) -> None:
    monkeypatch.setenv("CROUPIER_TREASURY_HOT_WALLETS", _hot_wallets(currency, cold_address))
    with pytest.raises(ConfigurationError, match="cold address is not an address of the"):
        load_settings()
