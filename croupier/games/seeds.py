"""Seeds of the provably-fair scheme: server seed, client seed and nonce.

Before a player bets they see ``sha256(server_seed)``; the server seed itself stays
secret until the pair is rotated, which happens whenever the player sets a new client
seed. A rotation reveals the old server seed, so every bet made with it can be
recomputed and checked against the hash shown earlier. The nonce counts bets within a
pair, so no (server seed, client seed, nonce) is ever used twice.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

from croupier.games.errors import InvalidSeed

SERVER_SEED_BYTES = 32
CLIENT_SEED_MAX_CHARS = 64
SALT_MAX_CHARS = 128
MAX_NONCE = 2**63 - 1  # fits PostgreSQL BIGINT; no pair ever sees that many bets

_SERVER_SEED_RE = re.compile(r"[0-9a-f]{64}")
# Printable ASCII without spaces, so a seed survives copy-paste and shells intact.
_CLIENT_SEED_RE = re.compile(rf"[\x21-\x7e]{{1,{CLIENT_SEED_MAX_CHARS}}}")
_SALT_RE = re.compile(rf"[\x21-\x7e]{{1,{SALT_MAX_CHARS}}}")


def generate_server_seed() -> str:
    """A fresh secret server seed: 32 random bytes as 64 lowercase hex characters."""
    return secrets.token_hex(SERVER_SEED_BYTES)


def generate_client_seed() -> str:
    """A default client seed for players who never choose one."""
    return secrets.token_hex(16)


def hash_server_seed(server_seed: str) -> str:
    """The commitment shown before play: SHA-256 of the seed's ASCII hex, as hex."""
    return hashlib.sha256(check_server_seed(server_seed).encode("ascii")).hexdigest()


def check_server_seed(server_seed: object) -> str:
    """Return ``server_seed`` if it is 64 lowercase hex characters, else raise."""
    if not isinstance(server_seed, str) or not _SERVER_SEED_RE.fullmatch(server_seed):
        raise InvalidSeed("server seed must be 64 lowercase hex characters")
    return server_seed


def check_client_seed(client_seed: object) -> str:
    """Return ``client_seed`` if it is 1-64 printable ASCII characters without spaces."""
    if not isinstance(client_seed, str) or not _CLIENT_SEED_RE.fullmatch(client_seed):
        raise InvalidSeed(
            f"client seed must be 1 to {CLIENT_SEED_MAX_CHARS} printable ASCII characters "
            "without spaces"
        )
    return client_seed


def check_salt(salt: object) -> str:
    """Return the crash ``salt`` if it is 1-128 printable ASCII characters without spaces."""
    if not isinstance(salt, str) or not _SALT_RE.fullmatch(salt):
        raise InvalidSeed(
            f"salt must be 1 to {SALT_MAX_CHARS} printable ASCII characters without spaces"
        )
    return salt


def check_nonce(nonce: object) -> int:
    """Return ``nonce`` if it is an int in 0..MAX_NONCE, else raise."""
    if isinstance(nonce, bool) or not isinstance(nonce, int) or not 0 <= nonce <= MAX_NONCE:
        raise InvalidSeed(f"nonce must be an integer from 0 to {MAX_NONCE}, got {nonce!r}")
    return nonce


@dataclass(frozen=True, slots=True)
class RevealedSeedPair:
    """A rotated-out pair: everything needed to verify its ``bets`` bets (nonces 0..bets-1)."""

    server_seed: str
    server_seed_hash: str
    client_seed: str
    bets: int


@dataclass(frozen=True, slots=True)
class SeedPair:
    """A player's current pair; ``nonce`` is the nonce the next bet will use.

    The server seed is kept out of ``repr`` so it cannot leak into logs while secret.
    """

    server_seed: str = field(repr=False)
    client_seed: str
    nonce: int = 0

    def __post_init__(self) -> None:
        check_server_seed(self.server_seed)
        check_client_seed(self.client_seed)
        check_nonce(self.nonce)

    @classmethod
    def new(cls, client_seed: str | None = None) -> SeedPair:
        """A fresh pair with a new secret server seed and nonce 0."""
        return cls(generate_server_seed(), client_seed or generate_client_seed())

    @property
    def server_seed_hash(self) -> str:
        return hash_server_seed(self.server_seed)

    def advance(self) -> SeedPair:
        """The pair after one bet used ``self.nonce``."""
        if self.nonce == MAX_NONCE:
            raise InvalidSeed("this seed pair has used every nonce; rotate it")
        return SeedPair(self.server_seed, self.client_seed, self.nonce + 1)

    def rotate(
        self, client_seed: str, server_seed: str | None = None
    ) -> tuple[SeedPair, RevealedSeedPair]:
        """Start a new pair with ``client_seed`` and reveal this one.

        ``server_seed`` is for callers that committed to the next server seed in
        advance (showing its hash); by default a fresh one is drawn.
        """
        fresh = SeedPair(server_seed or generate_server_seed(), client_seed)
        if fresh.server_seed == self.server_seed:
            raise InvalidSeed("a rotation must change the server seed")
        revealed = RevealedSeedPair(
            server_seed=self.server_seed,
            server_seed_hash=self.server_seed_hash,
            client_seed=self.client_seed,
            bets=self.nonce,
        )
        return fresh, revealed
