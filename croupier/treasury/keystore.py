"""Where the HD master seed is kept, behind the smallest interface signing needs.

Every key Croupier holds derives from one seed (see ``croupier.treasury.hd``), so a
keystore stores exactly that seed: ``store_seed`` once, at initialisation, refusing to
overwrite; ``load_seed`` when a signer starts. Two implementations:

- ``LocalKeyStore``: the embedded default, an encrypted file under ``data_dir``.
- ``VaultKeyStore``: HashiCorp Vault's KV v2 engine, token or AppRole auth.
"""

from __future__ import annotations

from typing import Protocol

from croupier.core.errors import ConfigurationError
from croupier.core.settings import Settings
from croupier.treasury.secret import Secret

KEYSTORE_FILE_NAME = "keystore.json"


class KeyStore(Protocol):
    """Custody of the HD master seed."""

    @property
    def location(self) -> str:
        """Where the seed lives, for messages (a file path or a Vault URL; never a secret)."""
        ...

    def load_seed(self) -> Secret[bytes]:
        """The stored seed; ``SeedNotFound`` if none was stored yet."""
        ...

    def store_seed(self, seed: Secret[bytes]) -> None:
        """Store the seed; ``KeystoreExists`` if one is already stored (never overwrites)."""
        ...


def keystore_from_settings(settings: Settings) -> KeyStore:
    """The keystore ``CROUPIER_KEYSTORE_BACKEND`` names; a ``ConfigurationError`` names any gap."""
    if settings.keystore_backend == "vault":
        return _vault_keystore(settings)
    return _local_keystore(settings)


def _local_keystore(settings: Settings) -> KeyStore:
    from croupier.treasury.local_keystore import LocalKeyStore

    passphrase = settings.keystore_passphrase
    if passphrase is None or not passphrase.get_secret_value():
        raise ConfigurationError(
            "CROUPIER_KEYSTORE_PASSPHRASE is not set; the local keystore "
            f"({settings.data_dir / KEYSTORE_FILE_NAME}) is encrypted with it"
        )
    return LocalKeyStore(
        settings.data_dir / KEYSTORE_FILE_NAME, Secret(passphrase.get_secret_value())
    )


def _vault_keystore(settings: Settings) -> KeyStore:
    from croupier.treasury.vault_keystore import AppRoleAuth, TokenAuth, VaultAuth, VaultKeyStore

    if not settings.vault_addr:
        raise ConfigurationError(
            "CROUPIER_VAULT_ADDR is not set; expected Vault's URL such as "
            "https://vault.internal:8200 (CROUPIER_KEYSTORE_BACKEND=vault)"
        )
    auth: VaultAuth
    if settings.vault_role_id:
        secret_id = settings.vault_secret_id
        if secret_id is None or not secret_id.get_secret_value():
            raise ConfigurationError(
                "CROUPIER_VAULT_SECRET_ID is not set; AppRole login "
                "(CROUPIER_VAULT_ROLE_ID is set) needs it"
            )
        auth = AppRoleAuth(settings.vault_role_id, Secret(secret_id.get_secret_value()))
    elif settings.vault_token is not None and settings.vault_token.get_secret_value():
        auth = TokenAuth(Secret(settings.vault_token.get_secret_value()))
    else:
        raise ConfigurationError(
            "CROUPIER_VAULT_TOKEN is not set (nor CROUPIER_VAULT_ROLE_ID and "
            "CROUPIER_VAULT_SECRET_ID for AppRole); the Vault keystore needs one"
        )
    return VaultKeyStore(
        addr=settings.vault_addr,
        auth=auth,
        kv_mount=settings.vault_kv_mount,
        seed_path=settings.vault_seed_path,
        timeout_s=settings.vault_timeout_s,
    )
