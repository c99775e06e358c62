"""Typed errors of key custody.

Messages name the file, the Vault path or the environment variable to fix, and never
contain key material: a keystore error is read by operators and lands in logs.
"""

from __future__ import annotations

from croupier.core.errors import (
    ConfigurationError,
    Conflict,
    CroupierError,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
)


class KeystoreError(CroupierError):
    """Base of every key-custody failure."""

    code = "keystore_error"


class WrongPassphrase(KeystoreError, ConfigurationError):
    """The keystore passphrase does not unlock the local keystore."""

    code = "keystore_wrong_passphrase"


class KeystoreCorrupt(KeystoreError):
    """The stored keystore is malformed or fails authentication (altered or damaged)."""

    code = "keystore_corrupt"


class KeystoreExists(KeystoreError, Conflict):
    """A seed is already stored; custody never overwrites one."""

    code = "keystore_exists"


class SeedNotFound(KeystoreError, NotFound):
    """No seed is stored yet (run ``croupier keys init``)."""

    code = "seed_not_found"


class KeystoreForbidden(KeystoreError, ConfigurationError):
    """The key service refused our credentials (a Vault 403 or a rejected AppRole login)."""

    code = "keystore_forbidden"


class KeystoreUnavailable(KeystoreError, ServiceUnavailable):
    """The key service cannot answer now: unreachable, sealed, uninitialised or failing."""

    code = "keystore_unavailable"


class InvalidMnemonic(KeystoreError, InvalidInput):
    """A mnemonic is not a valid BIP-39 English sentence (the message never quotes it)."""

    code = "invalid_mnemonic"


class InvalidDerivationIndex(KeystoreError, InvalidInput):
    """A BIP-32 child index outside 0..2**31-1 (non-hardened range)."""

    code = "invalid_derivation_index"


class KeystoreInsecure(KeystoreError, ConfigurationError):
    """The keystore file is readable or writable by other users."""

    code = "keystore_insecure"
