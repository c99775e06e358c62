"""Mines: shuffle the 25 tiles with floor(float_i * (25 - i)); the first `mines` are mines."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from math import comb, prod

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.games import play
from croupier.games.errors import InvalidBet
from croupier.games.mines import (
    MAX_MINES,
    MIN_MINES,
    TILES,
    Mines,
    MinesChoice,
    MinesOutcome,
    MinesSetup,
    tile_order,
)
from croupier.games.rng import float_words

WORDS = 2**32
MINES = Mines()


def test_floats_of_0_pick_the_lowest_remaining_tile_each_time() -> None:
    assert tile_order([0] * 24) == list(range(24))


def test_floats_near_1_pick_the_highest_remaining_tile_each_time() -> None:
    assert tile_order([WORDS - 1] * 24) == list(range(24, 0, -1))


@given(st.lists(st.integers(min_value=0, max_value=WORDS - 1), min_size=24, max_size=24))
def test_the_24_picks_and_the_last_tile_are_a_permutation_of_the_board(words: list[int]) -> None:
    order = tile_order(words)
    assert len(set(order)) == 24
    assert sorted(order + list(set(range(TILES)) - set(order))) == list(range(TILES))


@given(st.lists(st.integers(min_value=0, max_value=WORDS - 1), min_size=24, max_size=24))
def test_the_mines_are_the_first_picks_of_the_order(words: list[int]) -> None:
    order = tile_order(words)
    for mines in (MIN_MINES, 3, MAX_MINES):
        outcome = MINES.outcome(MinesSetup(mines), words)
        assert outcome.mines == frozenset(order[:mines])


def test_play_reading_only_mines_floats_lays_the_board_of_the_full_24_float_shuffle() -> None:
    """The engine draws ``ceil(mines / 8)`` digests, not 3: the same board bit for bit."""
    client_seed = "full-shuffle"
    for seed_number in range(50):
        server_seed = hashlib.sha256(b"mines seed %d" % seed_number).hexdigest()
        for nonce in range(20):
            order = tile_order(float_words(server_seed, client_seed, nonce, 24))
            for mines in range(MIN_MINES, MAX_MINES + 1):
                played = play(
                    "mines",
                    {"mines": mines, "picks": "0"},
                    server_seed=server_seed,
                    client_seed=client_seed,
                    nonce=nonce,
                    amount=1,
                )
                assert played.outcome == MinesOutcome(frozenset(order[:mines]))


def test_one_mine_reads_one_float_and_pays_24_75x_for_clearing_the_board() -> None:
    setup = MINES.validate_setup({"mines": "1"})
    assert MINES.floats_needed(setup) == 1
    assert MINES.outcome(setup, [0]).mines == {0}
    picks = MINES.validate_choice(setup, {"picks": ",".join(str(t) for t in range(1, 25))})
    assert MINES.multiplier(setup, picks, MinesOutcome(frozenset({0}))) == Fraction(2475, 100)


def test_24_mines_leave_exactly_the_last_tile_safe_and_pay_24_75x_for_it() -> None:
    words = [WORDS - 1] * 24  # picks 24, 23, ..., 1: tile 0 is left
    setup = MINES.validate_setup({"mines": 24})
    outcome = MINES.outcome(setup, words)
    assert set(range(TILES)) - outcome.mines == {0}
    assert MINES.multiplier(setup, MinesChoice((0,)), outcome) == Fraction(2475, 100)
    assert MINES.multiplier(setup, MinesChoice((5,)), outcome) == 0


def test_revealing_a_mine_pays_nothing_even_after_safe_reveals() -> None:
    outcome = MinesOutcome(frozenset({7, 8, 9}))
    assert MINES.multiplier(MinesSetup(3), MinesChoice((0, 1, 9)), outcome) == 0


def test_every_mines_cash_out_returns_exactly_99_percent_for_a_uniform_shuffle() -> None:
    configurations = 0
    for mines in range(MIN_MINES, MAX_MINES + 1):
        for reveals in range(1, TILES - mines + 1):
            choice = MinesChoice(tuple(range(reveals)))
            rtp = MINES.payout_distribution(MinesSetup(mines), choice).rtp
            assert rtp == Fraction(99, 100)
            configurations += 1
    assert configurations == 300


def test_the_real_shuffle_is_within_325_over_2_to_the_32_of_uniform_for_any_pick_sequence() -> None:
    """Each pick from n tiles gets q or q + 1 of the 2**32 words (q = 2**32 // n): its
    probability is within a factor 1 +- n / 2**32 of 1/n. Over the 24 picks the factors
    multiply to within 1 +- 325 / 2**32, which bounds every RTP the same way."""
    worst_ratio_per_pick = []
    for n in range(2, TILES + 1):
        counts = {((j + 1) * WORDS + n - 1) // n - (j * WORDS + n - 1) // n for j in range(n)}
        assert counts <= {WORDS // n, WORDS // n + 1}
        worst_ratio_per_pick.append(max(abs(Fraction(c * n, WORDS) - 1) for c in counts))
        assert worst_ratio_per_pick[-1] < Fraction(n, WORDS)
    upper = prod(1 + r for r in worst_ratio_per_pick)
    lower = prod(1 - r for r in worst_ratio_per_pick)
    assert 1 - Fraction(325, WORDS) < lower <= upper < 1 + Fraction(325, WORDS)


def test_the_mine_positions_print_sorted() -> None:
    assert MinesOutcome(frozenset({19, 6, 9})).as_dict() == {"mines": [6, 9, 19]}


@pytest.mark.parametrize("mines", ["0", "25", "-1", "three"])
def test_mine_counts_outside_1_to_24_are_refused(mines: str) -> None:
    with pytest.raises(InvalidBet, match="mines"):
        MINES.validate_setup({"mines": mines})


@pytest.mark.parametrize(
    ("mines", "picks"),
    [
        (3, ""),  # no reveal
        (3, "1,1"),  # a tile twice
        (3, "25"),  # off the board
        (24, "0,1"),  # more reveals than safe tiles
        (1, list(range(25))),
    ],
)
def test_impossible_picks_are_refused(mines: int, picks: object) -> None:
    with pytest.raises(InvalidBet, match="mines"):
        MINES.validate_choice(MinesSetup(mines), {"picks": picks})


def test_picks_may_be_a_list_of_ints_or_comma_separated_text() -> None:
    setup = MinesSetup(3)
    assert MINES.validate_choice(setup, {"picks": [0, 6, 12]}) == MINES.validate_choice(
        setup, {"picks": "0, 6,12"}
    )


def test_the_cash_out_multiplier_is_99_percent_over_the_safe_probability() -> None:
    assert MINES.cash_out_multiplier(3, 2) == Fraction(99, 100) * comb(25, 2) / comb(22, 2)
