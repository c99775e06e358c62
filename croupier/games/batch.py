"""Many rounds at once, for simulation: the Monte Carlo suite and ``bench.rtp``.

A simulation plays one seed pair over consecutive nonces (or one crash chain over
consecutive rounds), millions of times. Played one by one through ``engine.play``,
each round pays for Python calls, tuples and ``Fraction``s several times over the
cost of its HMAC. Here the digests of a whole chunk are made in one tight loop
(``HmacSha256.digests``), every 32-bit word is unpacked in one call, and each game's
word -> outcome mapping runs as numpy integer arithmetic over the chunk.

Each outcome function is the vectorised twin of one scalar definition (named in its
docstring) with the same constants, all exact in uint64 (no value exceeds 2**59).
The production path, one bet at a time, never imports this module;
tests/unit/games/test_batch.py proves every function here equal to ``play`` and
``play_crash`` round by round and at the boundary words.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from croupier.core.errors import InvalidInput
from croupier.games.crash import MIN_CRASH_H, R_BITS, R_SCALE, Crash, SaltedRounds
from croupier.games.dice import ROLL_VALUES
from croupier.games.hashchain import walk_ascii
from croupier.games.limbo import MAX_RESULT_H, MIN_RESULT_H, Limbo
from croupier.games.mines import TILES
from croupier.games.rng import DIGEST_BYTES, FLOATS_PER_DIGEST, checked_stream

# Rounds per call: 250k rounds of 3 digests stay under ~60 MB while the chunk is built.
MAX_BATCH_ROUNDS = 250_000
_WORD_BITS = np.uint64(32)  # numpy scalars keep the arithmetic in uint64
_R_SHIFT = np.uint64(64 - R_BITS)

Words: TypeAlias = NDArray[np.uint64]
Tiles: TypeAlias = NDArray[np.int8]  # tile numbers 0..24


def _check_rounds(rounds: int) -> None:
    if not 1 <= rounds <= MAX_BATCH_ROUNDS:
        raise InvalidInput(f"a batch plays 1 to {MAX_BATCH_ROUNDS} rounds; got {rounds}")


def float_word_matrix(server_seed: str, client_seed: str, nonces: range, count: int) -> Words:
    """Row i: the first ``count`` float words of nonce ``nonces[i]`` (``rng.float_words``)."""
    _check_rounds(len(nonces))
    stream = checked_stream(server_seed, client_seed, nonces, count)
    digests = stream.key.digests
    # One stream round at a time over every nonce: a message is one C-level format.
    rounds = [
        np.frombuffer(digests(map(round_format.__mod__, nonces)), dtype=">u4").reshape(
            len(nonces), FLOATS_PER_DIGEST
        )
        for round_format in stream.round_formats
    ]
    return np.hstack(rounds)[:, :count].astype(np.uint64)


def chain_randomness(salt: str, start_hash: str, rounds: int) -> tuple[Words, str]:
    """``r`` of each hash ``hashchain.walk(start_hash, rounds)`` yields, in that order
    (``SaltedRounds.randomness``), and the last hash, where the next chunk starts."""
    _check_rounds(rounds)
    game_hashes = walk_ascii(start_hash, rounds)
    digests = SaltedRounds(salt).digests(game_hashes)
    # r is the digest's first 52 bits: its first 8 bytes, big-endian, less 12 bits.
    first_8_bytes = np.frombuffer(digests, dtype=">u8")[:: DIGEST_BYTES // 8].astype(np.uint64)
    return first_8_bytes >> _R_SHIFT, game_hashes[-1].decode("ascii")


def dice_rolls(words: Words) -> Words:
    """``dice.roll_hundredths`` of each word: ``(w * 10001) >> 32``."""
    rolls: Words = (words * np.uint64(ROLL_VALUES)) >> _WORD_BITS
    return rolls


def limbo_results(limbo: Limbo, words: Words) -> Words:
    """``Limbo.result_hundredths`` of each word: ``dividend // w`` clamped to the
    offered range; word 0 gives the cap (``dividend // 1`` is above it)."""
    results: Words = np.clip(limbo.dividend // np.maximum(words, 1), MIN_RESULT_H, MAX_RESULT_H)
    return results


def plinko_buckets(words: Words) -> Words:
    """The bucket of ``Plinko.outcome`` for each row of ``rows`` words: the number of
    rights, a right being a word's top bit (``plinko.path``)."""
    buckets: Words = (words >> np.uint64(31)).sum(axis=1, dtype=np.uint64)
    return buckets


def mines_tiles(words: Words) -> Tiles:
    """``mines.tile_order`` of each row: the first ``m`` tiles of its shuffle (m < 25).

    Pick i is the ``index``-th (``(w * (25 - i)) >> 32``) of the tiles not yet picked,
    in ascending order. That tile is ``index`` stepped one up for every earlier pick
    at or below it, taking the earlier picks lowest first; so the earlier picks are
    kept sorted, one row of ``lowest`` per rank, by inserting each new pick.
    """
    rounds, picks = words.shape
    assert picks < TILES, picks
    tiles: Tiles = np.empty((picks, rounds), dtype=np.int8)
    lowest: Tiles = np.empty((picks, rounds), dtype=np.int8)  # row j: j-th lowest pick
    for pick in range(picks):
        tile = ((words[:, pick] * np.uint64(TILES - pick)) >> _WORD_BITS).astype(np.int8)
        for earlier in lowest[:pick]:
            tile += earlier <= tile
        tiles[pick] = tile
        if pick == 0:
            lowest[0] = tile
            continue
        # Insert: rank j becomes max(rank j - 1, min(rank j, tile)).
        capped = np.minimum(lowest[:pick], tile)
        lowest[pick] = np.maximum(lowest[pick - 1], tile)
        lowest[1:pick] = np.maximum(lowest[: pick - 1], capped[1:])
        lowest[0] = capped[0]
    return tiles.T


def crash_points(crash: Crash, randomness: Words) -> Words:
    """``Crash.crash_hundredths`` of each ``r``: ``max(100, dividend // (2**52 - r))``."""
    points: Words = np.maximum(crash.dividend // (R_SCALE - randomness), MIN_CRASH_H)
    return points
