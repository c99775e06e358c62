"""The crash game's hash chain: every round's game hash, committed before round 1.

``hash_i = sha256(hash_{i+1})``, each hash written as 64 lowercase hex characters and
the next one computed over those ASCII characters. The chain is generated from a
secret ``hash_N`` down to ``hash_0``, the *terminating hash*, which is published before
round 1; round k then plays ``hash_k``, walking the chain from its published end
back toward the secret. Anyone holding a revealed ``hash_k`` can hash it k times and
reach the terminating hash, proving it was fixed before the first round.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from binascii import hexlify
from collections.abc import Iterator
from dataclasses import dataclass, field

from croupier.games.errors import ChainMismatch, InvalidSeed

# 1M hashes is ~120 MB of Python strings; longer chains are generated in segments.
MAX_CHAIN_LENGTH = 1_000_000

_HASH_RE = re.compile(r"[0-9a-f]{64}")


def check_game_hash(game_hash: object) -> str:
    """Return ``game_hash`` if it is 64 lowercase hex characters, else raise."""
    if not isinstance(game_hash, str) or not _HASH_RE.fullmatch(game_hash):
        raise InvalidSeed("a game hash must be 64 lowercase hex characters")
    return game_hash


def previous_hash(game_hash: str) -> str:
    """``sha256`` of the hash's ASCII hex, as hex: one step toward the terminating hash."""
    return hashlib.sha256(game_hash.encode("ascii")).hexdigest()


def walk(start: str, steps: int) -> Iterator[str]:
    """``start`` hashed once, twice, ... ``steps`` times, in that order."""
    current = check_game_hash(start)
    for _ in range(steps):
        current = previous_hash(current)
        yield current


def walk_ascii(start: str, steps: int) -> list[bytes]:
    """``walk(start, steps)`` as ASCII bytes, in one list: the form a simulation hashes
    again (crash's salted HMAC takes the hash's ASCII), without a str round trip per
    step. At most ``MAX_CHAIN_LENGTH`` steps."""
    if not 0 <= steps <= MAX_CHAIN_LENGTH:
        raise InvalidSeed(f"a walk takes 0 to {MAX_CHAIN_LENGTH} steps; got {steps}")
    current = check_game_hash(start).encode("ascii")
    sha256 = hashlib.sha256
    hashes: list[bytes] = []
    append = hashes.append
    for _ in range(steps):
        current = hexlify(sha256(current).digest())  # lowercase hex, as hexdigest()
        append(current)
    return hashes


@dataclass(frozen=True, slots=True)
class HashChain:
    """A generated chain. ``game_hashes[k - 1]`` is round k's hash; all secret until played."""

    terminating_hash: str
    game_hashes: tuple[str, ...] = field(repr=False)

    def game_hash(self, round_number: int) -> str:
        if not 1 <= round_number <= len(self.game_hashes):
            raise InvalidSeed(f"round must be from 1 to {len(self.game_hashes)}")
        return self.game_hashes[round_number - 1]


def generate_chain(length: int, secret: str | None = None) -> HashChain:
    """A chain of ``length`` rounds from ``secret`` (default: 32 fresh random bytes)."""
    if not 1 <= length <= MAX_CHAIN_LENGTH:
        raise InvalidSeed(f"chain length must be from 1 to {MAX_CHAIN_LENGTH}; got {length}")
    secret = check_game_hash(secret if secret is not None else secrets.token_hex(32))
    # hash_N = secret, hash_{N-1}, ..., hash_0 = terminating.
    descending = [secret, *walk(secret, length)]
    terminating = descending.pop()
    return HashChain(terminating_hash=terminating, game_hashes=tuple(reversed(descending)))


def chain_round(game_hash: str, terminating_hash: str, max_rounds: int = MAX_CHAIN_LENGTH) -> int:
    """The round ``game_hash`` belongs to: how many hashings lead to ``terminating_hash``.

    Raises ``ChainMismatch`` if no number of hashings up to ``max_rounds`` does.
    """
    check_game_hash(terminating_hash)
    if not 1 <= max_rounds <= MAX_CHAIN_LENGTH:
        raise InvalidSeed(f"max_rounds must be from 1 to {MAX_CHAIN_LENGTH}")
    for round_number, current in enumerate(walk(game_hash, max_rounds), start=1):
        if current == terminating_hash:
            return round_number
    raise ChainMismatch(
        f"game hash does not lead to terminating hash {terminating_hash} within {max_rounds} rounds"
    )
