"""The batch path plays exactly the rounds ``play`` and ``play_crash`` play.

Simulations (the Monte Carlo suite, ``bench.rtp``) draw millions of rounds through
``croupier.games.batch``: digests in one loop, words unpacked at once, and numpy twins
of each game's outcome mapping. Each twin is proved equal to playing the same rounds
one by one (100k rounds per game, every plinko row count and mine count among them)
and to the scalar mapping at the words where results change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.core.errors import InvalidInput
from croupier.games import play, play_crash
from croupier.games.batch import (
    MAX_BATCH_ROUNDS,
    Words,
    chain_randomness,
    crash_points,
    dice_rolls,
    float_word_matrix,
    limbo_results,
    mines_tiles,
    plinko_buckets,
)
from croupier.games.crash import R_SCALE, Crash
from croupier.games.dice import ROLL_VALUES, roll_hundredths
from croupier.games.hashchain import walk
from croupier.games.limbo import MAX_RESULT_H, Limbo
from croupier.games.mines import MAX_MINES, tile_order
from croupier.games.plinko import MAX_ROWS, MIN_ROWS, path
from croupier.games.rng import MAX_FLOATS_PER_BET, WORD_SCALE, stream_float_words
from croupier.games.seeds import MAX_NONCE

ROUNDS = 100_000
SERVER_SEED = hashlib.sha256(b"croupier batch test server seed").hexdigest()
CLIENT_SEED = "batch-test"
CHAIN_SECRET = hashlib.sha256(b"croupier batch test chain").hexdigest()
SALT = "batch-test-salt"
EDGES = [Fraction(0), Fraction(1, 100), Fraction(1, 97), Fraction(12345, 1234567), Fraction(1, 10)]
PLINKO_ROW_COUNTS = MAX_ROWS - MIN_ROWS + 1


def _words(*values: int) -> Words:
    return np.array(values, dtype=np.uint64)


def _played(
    game: str, params_of: Callable[[int], Mapping[str, object]], rounds: int = ROUNDS
) -> list[Any]:
    """The outcome ``play`` gives each nonce (a game's own outcome type)."""
    return [
        play(
            game,
            params_of(nonce),
            server_seed=SERVER_SEED,
            client_seed=CLIENT_SEED,
            nonce=nonce,
            amount=1,
        ).outcome
        for nonce in range(rounds)
    ]


@pytest.mark.parametrize("count", [1, 7, 8, 9, 16, 24, MAX_FLOATS_PER_BET])
@pytest.mark.parametrize("client_seed", [CLIENT_SEED, "100%-luck%d%s%%"])
def test_batch_words_are_the_stream_words_for_any_count_and_client_seed(
    count: int, client_seed: str
) -> None:
    nonces = range(95, 1_005)  # across 2-, 3- and 4-digit nonces
    batch = float_word_matrix(SERVER_SEED, client_seed, nonces, count)
    streamed = stream_float_words(SERVER_SEED, client_seed, nonces, count)
    assert batch.tolist() == [list(words) for words in streamed]


def test_batch_words_reach_the_largest_nonce() -> None:
    nonces = range(MAX_NONCE - 9, MAX_NONCE + 1)
    batch = float_word_matrix(SERVER_SEED, CLIENT_SEED, nonces, 9)
    assert batch.tolist() == [
        list(w) for w in stream_float_words(SERVER_SEED, CLIENT_SEED, nonces, 9)
    ]


@pytest.mark.parametrize("rounds", [0, MAX_BATCH_ROUNDS + 1])
def test_a_batch_plays_a_bounded_number_of_rounds(rounds: int) -> None:
    with pytest.raises(InvalidInput):
        float_word_matrix(SERVER_SEED, CLIENT_SEED, range(rounds), 1)
    with pytest.raises(InvalidInput):
        chain_randomness(SALT, CHAIN_SECRET, rounds)


def test_dice_rolls_equal_play_over_100k_rounds() -> None:
    words = float_word_matrix(SERVER_SEED, CLIENT_SEED, range(ROUNDS), 1)
    played = _played("dice", lambda _: {"target": "50.50", "direction": "over"})
    assert dice_rolls(words[:, 0]).tolist() == [outcome.roll_h for outcome in played]


def test_limbo_results_equal_play_over_100k_rounds() -> None:
    words = float_word_matrix(SERVER_SEED, CLIENT_SEED, range(ROUNDS), 1)
    played = _played("limbo", lambda _: {"target": "2"})
    assert limbo_results(Limbo(), words[:, 0]).tolist() == [o.result_h for o in played]


def test_plinko_buckets_equal_play_over_100k_rounds_of_every_row_count() -> None:
    words = float_word_matrix(SERVER_SEED, CLIENT_SEED, range(ROUNDS), MAX_ROWS)
    by_rows = np.stack([plinko_buckets(words[:, :rows]) for rows in range(MIN_ROWS, MAX_ROWS + 1)])
    row_counts = np.arange(ROUNDS) % PLINKO_ROW_COUNTS  # nonce n plays 8 + n % 9 rows
    batch = by_rows[row_counts, np.arange(ROUNDS)]
    played = _played("plinko", lambda n: {"rows": MIN_ROWS + n % PLINKO_ROW_COUNTS, "risk": "low"})
    assert batch.tolist() == [outcome.bucket for outcome in played]


def test_mines_boards_equal_play_over_100k_rounds_of_every_mine_count() -> None:
    words = float_word_matrix(SERVER_SEED, CLIENT_SEED, range(ROUNDS), MAX_MINES)
    orders = mines_tiles(words).tolist()
    played = _played("mines", lambda n: {"mines": 1 + n % MAX_MINES, "picks": "0"})
    assert [frozenset(order[: 1 + n % MAX_MINES]) for n, order in enumerate(orders)] == [
        outcome.mines for outcome in played
    ]


def test_mines_boards_read_from_fewer_words_are_the_first_tiles_of_the_full_shuffle() -> None:
    words = float_word_matrix(SERVER_SEED, CLIENT_SEED, range(2_000), MAX_MINES)
    full = mines_tiles(words)
    assert full.tolist() == [tile_order(row) for row in words.tolist()]
    for mines in range(1, MAX_MINES + 1):
        assert np.array_equal(mines_tiles(words[:, :mines]), full[:, :mines]), mines


def test_crash_points_equal_play_crash_over_100k_rounds_of_a_chain() -> None:
    randomness, last_hash = chain_randomness(SALT, CHAIN_SECRET, ROUNDS)
    game_hashes = list(walk(CHAIN_SECRET, ROUNDS))
    played = [
        play_crash({"target": "2"}, game_hash=game_hash, salt=SALT, amount=1).outcome
        for game_hash in game_hashes
    ]
    assert crash_points(Crash(), randomness).tolist() == [o.crash_h for o in played]
    assert last_hash == game_hashes[-1]


def test_a_chain_drawn_in_chunks_continues_where_the_last_chunk_ended() -> None:
    first, middle = chain_randomness(SALT, CHAIN_SECRET, 300)
    second, end = chain_randomness(SALT, middle, 200)
    whole, whole_end = chain_randomness(SALT, CHAIN_SECRET, 500)
    assert np.concatenate([first, second]).tolist() == whole.tolist()
    assert end == whole_end


def test_dice_rolls_change_at_the_same_words_as_the_scalar_roll() -> None:
    first_words = [-(-roll * WORD_SCALE // ROLL_VALUES) for roll in range(1, ROLL_VALUES)]
    words = _words(0, 1, WORD_SCALE - 1, *first_words, *(w - 1 for w in first_words))
    assert dice_rolls(words).tolist() == [roll_hundredths(w) for w in words.tolist()]


@pytest.mark.parametrize("edge", EDGES, ids=str)
def test_limbo_results_match_the_scalar_result_at_the_cap_floor_and_targets(edge: Fraction) -> None:
    limbo = Limbo(edge)
    edges = [limbo.words_reaching(t) for t in (101, 200, 10_000, MAX_RESULT_H)]
    near = [w + step for w in edges for step in (-1, 0, 1)]
    words = _words(0, 1, 2, WORD_SCALE - 1, *(w for w in near if 0 <= w < WORD_SCALE))
    assert limbo_results(limbo, words).tolist() == [
        limbo.result_hundredths(w) for w in words.tolist()
    ]


@pytest.mark.parametrize("edge", EDGES, ids=str)
def test_crash_points_match_the_scalar_point_at_the_floor_and_targets(edge: Fraction) -> None:
    crash = Crash(edge)
    edges = [R_SCALE - crash.values_reaching(t) for t in (101, 200, 10_000, 100_000_000)]
    near = [r + step for r in edges for step in (-1, 0, 1)]
    randomness = _words(0, 1, R_SCALE - 1, *(r for r in near if 0 <= r < R_SCALE))
    assert crash_points(crash, randomness).tolist() == [
        crash.crash_hundredths(r) for r in randomness.tolist()
    ]


@given(st.lists(st.integers(min_value=0, max_value=WORD_SCALE - 1), min_size=16, max_size=16))
def test_plinko_buckets_count_the_rights_of_the_scalar_path(words: list[int]) -> None:
    matrix = _words(*words).reshape(1, 16)
    for rows in range(MIN_ROWS, MAX_ROWS + 1):
        assert plinko_buckets(matrix[:, :rows]).tolist() == [sum(path(words[:rows]))]


def test_mines_extreme_words_pick_the_lowest_or_highest_remaining_tile() -> None:
    matrix = np.array([[0] * 24, [WORD_SCALE - 1] * 24], dtype=np.uint64)
    assert mines_tiles(matrix).tolist() == [list(range(24)), list(range(24, 0, -1))]
