"""Secrets at rest: sealed with AES-256-GCM under a key derived from one configured secret.

Each use names its own context, which goes into the key derivation, so one secret never
serves two purposes by accident; and each sealed value is bound to the row it belongs to
(the AES-GCM associated data), so a value copied onto another row does not open.
Callers choose the message for a value that does not open (usually: the wrong key).
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from croupier.core.errors import ConfigurationError
from croupier.core.local_secrets import MIN_SECRET_CHARS

_NONCE_BYTES = 12


class SealBroken(Exception):
    """The value does not open: another key, another row, or altered bytes."""


class Sealer:
    """Seals and unseals under one key. The key never appears in a repr."""

    __slots__ = ("_aead",)

    def __init__(self, secret: str, *, context: bytes, variable: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigurationError(f"{variable} must be at least {MIN_SECRET_CHARS} characters")
        # A fixed-context hash of a high-entropy secret is a sound AES key.
        self._aead = AESGCM(hashlib.sha256(context + secret.encode()).digest())

    def __repr__(self) -> str:
        return "Sealer(**redacted**)"

    def seal(self, associated: bytes, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, associated)

    def unseal(self, associated: bytes, sealed: bytes) -> bytes:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, associated)
        except InvalidTag:
            raise SealBroken from None
