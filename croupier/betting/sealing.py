"""Server seeds at rest: sealed with AES-256-GCM until their pair is rotated out.

A server seed decides outcomes before the player bets; anyone who reads it early can
predict every bet of the pair. So the ``seed_pairs`` row holds it sealed, the only
code that unseals it is the settlement (in the worker), and the workflow state and
history only ever carry the pair id, its hash, the client seed and the nonce.

The sealing key comes from ``CROUPIER_SEED_SEALING_KEY``, or, on a one-machine dev
stack, from a key file generated on first use in ``data_dir`` (like the JWT secret).
The pair id is the AES-GCM associated data: a sealed seed copied onto another row does
not open.
"""

from __future__ import annotations

import hashlib
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from croupier.core.errors import ConfigurationError
from croupier.core.local_secrets import read_or_create_secret
from croupier.core.settings import Settings

DEV_KEY_FILE = "seed-sealing-key"
MIN_SECRET_CHARS = 32
_NONCE_BYTES = 12
_KEY_CONTEXT = b"croupier/seed-sealing/v1\0"


class SeedSealer:
    """Seals and unseals server seeds under one key. The key never appears in a repr."""

    __slots__ = ("_aead",)

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigurationError(
                f"the seed sealing key must be at least {MIN_SECRET_CHARS} characters"
            )
        # A fixed-context hash of a high-entropy secret is a sound AES key; the context
        # keeps this key distinct from anything else derived from the same secret.
        self._aead = AESGCM(hashlib.sha256(_KEY_CONTEXT + secret.encode()).digest())

    def __repr__(self) -> str:
        return "SeedSealer(**redacted**)"

    def seal(self, pair_id: uuid.UUID, server_seed: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, server_seed.encode("ascii"), pair_id.bytes)

    def unseal(self, pair_id: uuid.UUID, sealed: bytes) -> str:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, pair_id.bytes).decode("ascii")
        except InvalidTag:
            raise ConfigurationError(
                f"the server seed of pair {pair_id} does not open with this sealing key: "
                "is CROUPIER_SEED_SEALING_KEY the one the pair was created with?"
            ) from None


def sealer_from_settings(settings: Settings) -> SeedSealer:
    """The configured key, or the dev key file in ``data_dir`` (created on first use)."""
    if settings.seed_sealing_key is not None:
        return SeedSealer(settings.seed_sealing_key.get_secret_value())
    path = settings.data_dir.resolve() / DEV_KEY_FILE
    return SeedSealer(read_or_create_secret(path, variable="CROUPIER_SEED_SEALING_KEY"))
