"""Settings pick the keystore, and a missing setting is named by its environment variable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from croupier.core.errors import ConfigurationError
from croupier.core.settings import Settings
from croupier.treasury.keystore import keystore_from_settings

NO_VAULT_CREDENTIALS: dict[str, Any] = {
    "vault_token": None,
    "vault_role_id": None,
    "vault_secret_id": None,
}


def test_the_local_keystore_lives_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, keystore_passphrase=SecretStr("passphrase-123"))

    keystore = keystore_from_settings(settings)

    assert keystore.location == str(tmp_path / "keystore.json")


@pytest.mark.parametrize("passphrase", [None, ""])
def test_the_local_keystore_needs_a_passphrase(tmp_path: Path, passphrase: str | None) -> None:
    settings = Settings(
        data_dir=tmp_path,
        keystore_passphrase=None if passphrase is None else SecretStr(passphrase),
    )

    with pytest.raises(ConfigurationError, match=r"^CROUPIER_KEYSTORE_PASSPHRASE is not set"):
        keystore_from_settings(settings)


def test_the_vault_keystore_needs_an_address() -> None:
    settings = Settings(keystore_backend="vault", vault_addr=None, vault_token=SecretStr("t"))

    with pytest.raises(ConfigurationError, match=r"^CROUPIER_VAULT_ADDR is not set"):
        keystore_from_settings(settings)


def test_the_vault_keystore_needs_a_token_or_an_approle() -> None:
    settings = Settings(
        keystore_backend="vault", vault_addr="http://127.0.0.1:8200", **NO_VAULT_CREDENTIALS
    )

    with pytest.raises(ConfigurationError, match=r"^CROUPIER_VAULT_TOKEN is not set"):
        keystore_from_settings(settings)


def test_an_approle_needs_its_secret_id() -> None:
    settings = Settings(
        keystore_backend="vault",
        vault_addr="http://127.0.0.1:8200",
        **{**NO_VAULT_CREDENTIALS, "vault_role_id": "role"},
    )

    with pytest.raises(ConfigurationError, match=r"^CROUPIER_VAULT_SECRET_ID is not set"):
        keystore_from_settings(settings)


def test_the_vault_keystore_points_at_the_configured_kv_path() -> None:
    settings = Settings(
        keystore_backend="vault",
        vault_addr="http://127.0.0.1:8200/",
        vault_token=SecretStr("hvs.token"),
        vault_kv_mount="kv",
        vault_seed_path="casino/seed",
    )

    keystore = keystore_from_settings(settings)

    assert keystore.location == "http://127.0.0.1:8200/v1/kv/data/casino/seed"


def test_secret_settings_are_redacted_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROUPIER_KEYSTORE_PASSPHRASE", "passphrase-from-env")
    monkeypatch.setenv("CROUPIER_VAULT_SECRET_ID", "secret-id-from-env")

    settings = Settings()

    assert settings.keystore_passphrase is not None
    assert settings.keystore_passphrase.get_secret_value() == "passphrase-from-env"
    assert "from-env" not in repr(settings) + str(settings)
