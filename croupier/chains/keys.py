"""A private key in a wrapper that will not print, log or serialize itself.

Keys come from the treasury (Vault or the local keystore) and go straight into a
signing call. The wrapper exists so that an f-string, a log line, a traceback's locals,
a pickle or a Temporal payload cannot carry the key by accident: every path but the
explicit ``reveal()`` shows ``SigningKey(<redacted>)`` or refuses.
"""

from __future__ import annotations

import hmac
from typing import NoReturn

from croupier.core.errors import InvalidInput

PRIVATE_KEY_BYTES = 32


class InvalidKey(InvalidInput):
    """Key material of the wrong shape. The message never contains the material."""

    code = "invalid_key"


class SigningKey:
    """32 bytes of secp256k1 private key; ``reveal()`` is the only way to read them."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes | bytearray) or len(secret) != PRIVATE_KEY_BYTES:
            raise InvalidKey(f"a private key is exactly {PRIVATE_KEY_BYTES} bytes")
        self._secret = bytes(secret)

    @classmethod
    def from_hex(cls, text: str) -> SigningKey:
        """Parse ``0x``-prefixed (or bare) hex, as the dev accounts print their keys."""
        digits = text.removeprefix("0x")
        try:
            secret = bytes.fromhex(digits)
        except ValueError:
            raise InvalidKey("a private key in hex must contain only hex digits") from None
        return cls(secret)

    def reveal(self) -> bytes:
        """The raw key, for the signing call only. Never store or log the result."""
        return self._secret

    def __repr__(self) -> str:
        return "SigningKey(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey):
            return NotImplemented
        return hmac.compare_digest(self._secret, other._secret)

    def __reduce__(self) -> NoReturn:
        raise TypeError("SigningKey refuses to be pickled or copied into a payload")
