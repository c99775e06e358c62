"""The HD seed in HashiCorp Vault's KV v2 secrets engine, via hvac.

The seed is one KV v2 secret (``{"seed_hex": "..."}``) at ``{mount}/data/{path}``,
written once with check-and-set 0 so a second ``store_seed`` can never overwrite it,
even racing another writer. Authentication is a static token or AppRole; an AppRole
token expires, so a 403 triggers one fresh login and one retry before it is reported.

Every hvac and transport failure becomes a typed error naming the Vault address and
what to fix: unreachable, sealed or failing Vault is ``KeystoreUnavailable`` (retry
later), a 403 or rejected login is ``KeystoreForbidden`` (fix the policy or the
credentials), an absent secret is ``SeedNotFound``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import hvac
import hvac.exceptions
import requests

from croupier.core.errors import ConfigurationError
from croupier.treasury.errors import (
    KeystoreCorrupt,
    KeystoreError,
    KeystoreExists,
    KeystoreForbidden,
    KeystoreUnavailable,
    SeedNotFound,
)
from croupier.treasury.hd import SEED_MAX_BYTES, check_seed
from croupier.treasury.secret import Secret

SEED_FIELD = "seed_hex"
APPROLE_MOUNT = "approle"
_CAS_MISMATCH = "check-and-set parameter did not match"

Result = TypeVar("Result")


@dataclass(frozen=True)
class TokenAuth:
    """A static Vault token (``CROUPIER_VAULT_TOKEN``)."""

    token: Secret[str]


@dataclass(frozen=True)
class AppRoleAuth:
    """AppRole credentials (``CROUPIER_VAULT_ROLE_ID`` / ``CROUPIER_VAULT_SECRET_ID``)."""

    role_id: str
    secret_id: Secret[str]


VaultAuth = TokenAuth | AppRoleAuth


class VaultKeyStore:
    """The seed in Vault KV v2 at ``{kv_mount}/data/{seed_path}``."""

    def __init__(
        self, *, addr: str, auth: VaultAuth, kv_mount: str, seed_path: str, timeout_s: int
    ) -> None:
        self._addr = addr.rstrip("/")
        self._auth = auth
        self._kv_mount = kv_mount.strip("/")
        self._seed_path = seed_path.strip("/")
        token = auth.token.reveal() if isinstance(auth, TokenAuth) else None
        self._client = hvac.Client(url=self._addr, token=token, timeout=timeout_s)

    @property
    def location(self) -> str:
        return f"{self._addr}/v1/{self._kv_mount}/data/{self._seed_path}"

    def __repr__(self) -> str:
        return f"VaultKeyStore({self.location!r})"

    def load_seed(self) -> Secret[bytes]:
        response = self._call(
            "read the seed",
            lambda client: client.secrets.kv.v2.read_secret_version(
                path=self._seed_path, mount_point=self._kv_mount, raise_on_deleted_version=True
            ),
        )
        return check_seed(Secret(self._seed_from(response)))

    def store_seed(self, seed: Secret[bytes]) -> None:
        check_seed(seed)
        self._call(
            "store the seed",
            lambda client: client.secrets.kv.v2.create_or_update_secret(
                path=self._seed_path,
                secret={SEED_FIELD: seed.reveal().hex()},
                cas=0,
                mount_point=self._kv_mount,
            ),
        )

    def _call(self, purpose: str, operation: Callable[[hvac.Client], Result]) -> Result:
        try:
            if isinstance(self._auth, AppRoleAuth) and not self._client.token:
                self._login(self._auth)
            try:
                return operation(self._client)
            except hvac.exceptions.Forbidden:
                if not isinstance(self._auth, AppRoleAuth):
                    raise
                self._login(self._auth)  # the AppRole token may have expired: once more
                return operation(self._client)
        except (hvac.exceptions.VaultError, requests.RequestException) as error:
            raise self._translate(error, purpose) from None

    def _login(self, auth: AppRoleAuth) -> None:
        try:
            self._client.auth.approle.login(
                role_id=auth.role_id, secret_id=auth.secret_id.reveal(), mount_point=APPROLE_MOUNT
            )
        except (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden) as error:
            raise KeystoreForbidden(
                f"Vault at {self._addr} rejected the AppRole login (CROUPIER_VAULT_ROLE_ID / "
                f"CROUPIER_VAULT_SECRET_ID): {_vault_message(error)}"
            ) from None

    def _translate(self, error: Exception, purpose: str) -> Exception:
        where = f"Vault at {self._addr}"
        if isinstance(error, requests.RequestException):
            return KeystoreUnavailable(
                f"cannot reach {where} to {purpose} ({type(error).__name__}); check "
                "CROUPIER_VAULT_ADDR and that Vault is running"
            )
        message = _vault_message(error)
        if isinstance(error, hvac.exceptions.VaultDown):
            return KeystoreUnavailable(
                f"{where} cannot {purpose}: it is sealed or down ({message}); unseal it and retry"
            )
        if isinstance(error, hvac.exceptions.Forbidden | hvac.exceptions.Unauthorized):
            return KeystoreForbidden(
                f"{where} refused to {purpose} ({message}): the token needs read and create "
                f"on {self._kv_mount}/data/{self._seed_path} (CROUPIER_VAULT_TOKEN or AppRole)"
            )
        if isinstance(error, hvac.exceptions.InvalidPath):
            if message:  # Vault names a missing route (no such mount), not a missing secret
                return ConfigurationError(
                    f"{where} has no KV v2 engine for {self._kv_mount}/data/{self._seed_path} "
                    f"(CROUPIER_VAULT_KV_MOUNT): {message}"
                )
            return SeedNotFound(
                f"no seed stored in {where} at {self._kv_mount}/data/{self._seed_path}; "
                "create one with `croupier keys init`"
            )
        if isinstance(error, hvac.exceptions.InvalidRequest) and _CAS_MISMATCH in message:
            return KeystoreExists(
                f"a seed is already stored in {where} at {self._kv_mount}/data/"
                f"{self._seed_path}; refusing to overwrite it"
            )
        if isinstance(error, hvac.exceptions.InvalidRequest):
            return KeystoreError(f"{where} rejected the request to {purpose}: {message}")
        return KeystoreUnavailable(
            f"{where} failed to {purpose}: {message or type(error).__name__}"
        )

    def _seed_from(self, response: Any) -> bytes:
        try:
            seed_hex = response["data"]["data"][SEED_FIELD]
            if not isinstance(seed_hex, str) or len(seed_hex) > 2 * SEED_MAX_BYTES:
                raise ValueError
            return bytes.fromhex(seed_hex)
        except (KeyError, TypeError, ValueError):
            raise KeystoreCorrupt(
                f"the secret at {self.location} has no valid {SEED_FIELD} field"
            ) from None


def _vault_message(error: Exception) -> str:
    """Vault's own error strings (never secret: Vault does not echo request data)."""
    errors = getattr(error, "errors", None)
    if isinstance(errors, list):
        return "; ".join(str(item) for item in errors)
    return str(errors) if errors else ""
