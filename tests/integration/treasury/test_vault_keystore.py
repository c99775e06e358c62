"""The Vault keystore through the real hvac client, over HTTP, against the Vault stand-in."""

from __future__ import annotations

import uuid

import hvac
import pytest

from croupier.core.errors import ConfigurationError
from croupier.treasury.errors import (
    KeystoreCorrupt,
    KeystoreExists,
    KeystoreForbidden,
    KeystoreUnavailable,
    SeedNotFound,
)
from croupier.treasury.hd import mnemonic_to_seed, new_mnemonic
from croupier.treasury.secret import Secret
from croupier.treasury.vault_keystore import AppRoleAuth, TokenAuth, VaultAuth, VaultKeyStore
from croupier.workers.processes import free_port
from tests.vault_standin import VaultStandIn


def _keystore(
    vault: VaultStandIn, auth: VaultAuth, *, seed_path: str, kv_mount: str = "secret"
) -> VaultKeyStore:
    return VaultKeyStore(
        addr=vault.url, auth=auth, kv_mount=kv_mount, seed_path=seed_path, timeout_s=5
    )


@pytest.fixture
def seed_path() -> str:
    return f"croupier/{uuid.uuid4().hex}/hd-seed"


@pytest.fixture
def seed() -> Secret[bytes]:
    return mnemonic_to_seed(new_mnemonic())


@pytest.fixture
def root(vault_standin: VaultStandIn) -> TokenAuth:
    return TokenAuth(Secret(vault_standin.root_token))


def test_a_stored_seed_loads_back_with_token_auth(
    vault_standin: VaultStandIn, root: TokenAuth, seed_path: str, seed: Secret[bytes]
) -> None:
    _keystore(vault_standin, root, seed_path=seed_path).store_seed(seed)

    loaded = _keystore(vault_standin, root, seed_path=seed_path).load_seed()

    assert loaded == seed


def test_the_seed_is_one_kv_v2_secret_at_the_configured_path(
    vault_standin: VaultStandIn, root: TokenAuth, seed_path: str, seed: Secret[bytes]
) -> None:
    _keystore(vault_standin, root, seed_path=seed_path).store_seed(seed)

    client = hvac.Client(url=vault_standin.url, token=vault_standin.root_token)
    secret = client.secrets.kv.v2.read_secret_version(
        path=seed_path, mount_point="secret", raise_on_deleted_version=True
    )

    assert secret["data"]["data"] == {"seed_hex": seed.reveal().hex()}
    assert secret["data"]["metadata"]["version"] == 1


def test_a_stored_seed_is_never_overwritten(
    vault_standin: VaultStandIn, root: TokenAuth, seed_path: str, seed: Secret[bytes]
) -> None:
    keystore = _keystore(vault_standin, root, seed_path=seed_path)
    keystore.store_seed(seed)

    with pytest.raises(KeystoreExists, match="refusing to overwrite"):
        keystore.store_seed(mnemonic_to_seed(new_mnemonic()))

    assert keystore.load_seed() == seed


def test_approle_credentials_store_and_load_the_seed(
    vault_standin: VaultStandIn, seed_path: str, seed: Secret[bytes]
) -> None:
    role_id, secret_id = vault_standin.create_approle()
    auth = AppRoleAuth(role_id, Secret(secret_id))

    _keystore(vault_standin, auth, seed_path=seed_path).store_seed(seed)

    assert _keystore(vault_standin, auth, seed_path=seed_path).load_seed() == seed


def test_an_expired_approle_token_is_replaced_by_one_fresh_login(
    vault_standin: VaultStandIn, root: TokenAuth, seed_path: str, seed: Secret[bytes]
) -> None:
    _keystore(vault_standin, root, seed_path=seed_path).store_seed(seed)
    role_id, secret_id = vault_standin.create_approle()
    keystore = _keystore(
        vault_standin, AppRoleAuth(role_id, Secret(secret_id)), seed_path=seed_path
    )
    keystore.load_seed()

    vault_standin.revoke_tokens_of(role_id)

    assert keystore.load_seed() == seed
    assert vault_standin.tokens_issued_to(role_id) == 1


def test_rejected_approle_credentials_are_forbidden_without_echoing_them(
    vault_standin: VaultStandIn, seed_path: str
) -> None:
    role_id, _ = vault_standin.create_approle()
    wrong_secret_id = str(uuid.uuid4())
    keystore = _keystore(
        vault_standin, AppRoleAuth(role_id, Secret(wrong_secret_id)), seed_path=seed_path
    )

    with pytest.raises(KeystoreForbidden, match="CROUPIER_VAULT_SECRET_ID") as refused:
        keystore.load_seed()

    assert "invalid role or secret ID" in str(refused.value)
    assert wrong_secret_id not in str(refused.value)


def test_an_unknown_token_is_forbidden_without_echoing_it(
    vault_standin: VaultStandIn, seed_path: str
) -> None:
    token = "hvs.not-a-real-token"

    with pytest.raises(KeystoreForbidden, match="permission denied") as refused:
        _keystore(vault_standin, TokenAuth(Secret(token)), seed_path=seed_path).load_seed()

    assert seed_path in str(refused.value)
    assert token not in str(refused.value)


def test_a_read_only_token_cannot_store_a_seed(
    vault_standin: VaultStandIn, seed_path: str, seed: Secret[bytes]
) -> None:
    read_only = TokenAuth(Secret(vault_standin.create_token(frozenset({"read"}))))

    with pytest.raises(KeystoreForbidden, match="store the seed"):
        _keystore(vault_standin, read_only, seed_path=seed_path).store_seed(seed)


def test_a_sealed_vault_is_unavailable_not_missing(
    vault_standin: VaultStandIn, root: TokenAuth, seed_path: str, seed: Secret[bytes]
) -> None:
    keystore = _keystore(vault_standin, root, seed_path=seed_path)
    keystore.store_seed(seed)

    with vault_standin.sealed(), pytest.raises(KeystoreUnavailable, match="Vault is sealed"):
        keystore.load_seed()

    assert keystore.load_seed() == seed


def test_an_unreachable_vault_is_unavailable(seed_path: str) -> None:
    keystore = VaultKeyStore(
        addr=f"http://127.0.0.1:{free_port()}",
        auth=TokenAuth(Secret("hvs.any")),
        kv_mount="secret",
        seed_path=seed_path,
        timeout_s=2,
    )

    with pytest.raises(KeystoreUnavailable, match="cannot reach Vault"):
        keystore.load_seed()


def test_a_missing_seed_says_how_to_create_one(
    vault_standin: VaultStandIn, root: TokenAuth, seed_path: str
) -> None:
    with pytest.raises(SeedNotFound, match="croupier keys init"):
        _keystore(vault_standin, root, seed_path=seed_path).load_seed()


def test_a_missing_kv_mount_names_its_setting(
    vault_standin: VaultStandIn, root: TokenAuth, seed_path: str
) -> None:
    keystore = _keystore(vault_standin, root, seed_path=seed_path, kv_mount="not-mounted")

    with pytest.raises(ConfigurationError, match="CROUPIER_VAULT_KV_MOUNT"):
        keystore.load_seed()


def test_a_secret_without_a_seed_field_is_corrupt(
    vault_standin: VaultStandIn, root: TokenAuth, seed_path: str
) -> None:
    client = hvac.Client(url=vault_standin.url, token=vault_standin.root_token)
    client.secrets.kv.v2.create_or_update_secret(path=seed_path, secret={"mnemonic": "x"})

    with pytest.raises(KeystoreCorrupt, match="seed_hex"):
        _keystore(vault_standin, root, seed_path=seed_path).load_seed()
