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

import uuid

from croupier.core.errors import ConfigurationError
from croupier.core.local_secrets import configured_or_local
from croupier.core.sealing import SealBroken, Sealer
from croupier.core.settings import Settings

DEV_KEY_FILE = "seed-sealing-key"
VARIABLE = "CROUPIER_SEED_SEALING_KEY"
_KEY_CONTEXT = b"croupier/seed-sealing/v1\0"


class SeedSealer:
    """Seals and unseals server seeds under one key. The key never appears in a repr."""

    __slots__ = ("_sealer",)

    def __init__(self, secret: str) -> None:
        self._sealer = Sealer(secret, context=_KEY_CONTEXT, variable=VARIABLE)

    def __repr__(self) -> str:
        return "SeedSealer(**redacted**)"

    def seal(self, pair_id: uuid.UUID, server_seed: str) -> bytes:
        return self._sealer.seal(pair_id.bytes, server_seed.encode("ascii"))

    def unseal(self, pair_id: uuid.UUID, sealed: bytes) -> str:
        try:
            return self._sealer.unseal(pair_id.bytes, sealed).decode("ascii")
        except SealBroken:
            raise ConfigurationError(
                f"the server seed of pair {pair_id} does not open with this sealing key: "
                f"is {VARIABLE} the one the pair was created with?"
            ) from None


def sealer_from_settings(settings: Settings) -> SeedSealer:
    """The configured key, or the dev key file in ``data_dir`` (created on first use)."""
    return SeedSealer(
        configured_or_local(
            settings.seed_sealing_key, settings.data_dir, DEV_KEY_FILE, variable=VARIABLE
        )
    )
