"""Crash: a published hash chain and salt fix every round's crash point in advance."""

from __future__ import annotations

import hashlib
import hmac
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.games.crash import R_SCALE, Crash, CrashOutcome, round_randomness
from croupier.games.errors import ChainMismatch, InvalidBet, InvalidSeed
from croupier.games.hashchain import (
    MAX_CHAIN_LENGTH,
    chain_round,
    generate_chain,
    previous_hash,
    walk,
    walk_ascii,
)
from croupier.games.targets import MAX_TARGET_H, MIN_TARGET_H, TargetChoice

CRASH = Crash()
SECRET = "b25a6fa3241a7ccbf6e62dd95346aa0fca57642929e8af33939e1d98a48b2cf6"
SALT = "0000000000000000000301e2801a9a9598bfb114e574a91a887f2132f33047e6"
K = 99 * R_SCALE


def test_each_game_hash_is_sha256_of_the_next_ones_ascii_hex() -> None:
    assert previous_hash(SECRET) == hashlib.sha256(SECRET.encode("ascii")).hexdigest()


def test_a_chain_is_played_from_the_published_end_toward_the_secret() -> None:
    chain = generate_chain(10, SECRET)
    assert chain.game_hash(10) == SECRET
    assert previous_hash(chain.game_hash(1)) == chain.terminating_hash
    for round_number in range(1, 10):
        assert previous_hash(chain.game_hash(round_number + 1)) == chain.game_hash(round_number)


def test_every_revealed_hash_links_to_the_terminating_hash_at_its_round() -> None:
    chain = generate_chain(50, SECRET)
    for round_number in (1, 2, 25, 50):
        found = chain_round(chain.game_hash(round_number), chain.terminating_hash)
        assert found == round_number


def test_a_hash_from_another_chain_does_not_link() -> None:
    chain = generate_chain(20, SECRET)
    stranger = generate_chain(20).game_hash(5)
    with pytest.raises(ChainMismatch):
        chain_round(stranger, chain.terminating_hash, max_rounds=100)


def test_the_chain_secret_stays_out_of_the_chains_repr() -> None:
    assert SECRET not in repr(generate_chain(3, SECRET))


@pytest.mark.parametrize("length", [0, MAX_CHAIN_LENGTH + 1])
def test_chain_length_is_bounded(length: int) -> None:
    with pytest.raises(InvalidSeed):
        generate_chain(length, SECRET)


@given(game_hash=st.binary(min_size=32, max_size=32).map(bytes.hex))
def test_r_is_the_first_13_hex_digits_of_the_salted_hmac(game_hash: str) -> None:
    hex_digest = hmac.new(SALT.encode(), game_hash.encode(), hashlib.sha256).hexdigest()
    assert round_randomness(game_hash, SALT) == int(hex_digest[:13], 16)


@given(st.integers(min_value=0, max_value=R_SCALE - 1))
def test_the_crash_point_is_the_specified_formula_in_exact_arithmetic(r: int) -> None:
    x = Fraction(r, R_SCALE)
    assert CRASH.crash_hundredths(r) == max(100, int(99 / (1 - x)))


@given(
    r=st.integers(min_value=0, max_value=R_SCALE - 1),
    edge=st.fractions(min_value=0, max_value=Fraction(1, 10), max_denominator=10**9),
)
def test_the_crash_point_is_exact_for_any_house_edge(r: int, edge: Fraction) -> None:
    x = Fraction(r, R_SCALE)
    assert Crash(edge).crash_hundredths(r) == max(100, int((1 - edge) * 100 / (1 - x)))


def test_the_ascii_walk_is_the_same_walk_as_bytes() -> None:
    assert walk_ascii(SECRET, 50) == [game_hash.encode("ascii") for game_hash in walk(SECRET, 50)]
    with pytest.raises(InvalidSeed):
        walk_ascii(SECRET, MAX_CHAIN_LENGTH + 1)


def test_the_lowest_r_crashes_at_1_00_and_the_highest_far_beyond_any_target() -> None:
    assert CRASH.crash_hundredths(0) == 100
    assert CRASH.crash_hundredths(R_SCALE - 1) == K
    assert CrashOutcome(K).as_dict()["crash"] == f"{K // 100}.{K % 100:02d}"


def test_x_below_0_01_crashes_at_1_00_which_is_where_the_1_percent_edge_lives() -> None:
    first_r_at_100 = -(-R_SCALE // 100)  # smallest r with X >= 1/100: 99 / (1 - X) >= 100
    assert CRASH.crash_hundredths(first_r_at_100) == 100
    assert K // (R_SCALE - (first_r_at_100 - 1)) == 99  # clamped up to 1.00
    p_below_1_01 = 1 - Fraction(CRASH.values_reaching(101), R_SCALE)
    assert p_below_1_01 == pytest.approx(2 / 101, abs=1e-15)


@given(st.integers(min_value=MIN_TARGET_H, max_value=MAX_TARGET_H))
def test_the_winning_r_count_matches_the_crash_function(target_h: int) -> None:
    first_winning_r = R_SCALE - CRASH.values_reaching(target_h)
    assert CRASH.crash_hundredths(first_winning_r) >= target_h
    assert CRASH.crash_hundredths(first_winning_r - 1) < target_h


def _crash_rtp_bounds_hold(target_h: int) -> None:
    rtp = CRASH.payout_distribution(None, TargetChoice(target_h)).rtp
    assert Fraction(99, 100) - Fraction(target_h, 100 * R_SCALE) < rtp <= Fraction(99, 100)


def test_every_crash_target_up_to_100x_returns_at_most_99_percent() -> None:
    """Exact RTP t * floor(K / t) / (100 * 2**52) for each of the 9,900 targets."""
    for target_h in range(MIN_TARGET_H, 10001):
        _crash_rtp_bounds_hold(target_h)


@given(st.integers(min_value=MIN_TARGET_H, max_value=MAX_TARGET_H))
def test_any_crash_target_returns_at_most_99_percent(target_h: int) -> None:
    """t * floor(K / t) <= K < t * (floor(K / t) + 1) for every t makes the bound an
    identity; this checks the code states it across the whole range."""
    _crash_rtp_bounds_hold(target_h)


@pytest.mark.parametrize("target_h", [101, 200, 1000, MAX_TARGET_H])
def test_the_payout_distribution_states_the_closed_form_rtp(target_h: int) -> None:
    rtp = CRASH.payout_distribution(None, TargetChoice(target_h)).rtp
    assert rtp == Fraction(target_h * (K // target_h), 100 * R_SCALE)


def test_cashing_out_at_or_below_the_crash_pays_the_target() -> None:
    choice = CRASH.validate_choice(None, {"target": "2"})
    assert CRASH.multiplier(None, choice, CrashOutcome(200)) == 2
    assert CRASH.multiplier(None, choice, CrashOutcome(199)) == 0


@pytest.mark.parametrize("target", ["1", "1.00", "1000000.01"])
def test_cash_out_targets_outside_1_01_to_1_000_000_are_refused(target: str) -> None:
    with pytest.raises(InvalidBet, match="crash"):
        CRASH.validate_choice(None, {"target": target})


@pytest.mark.parametrize(
    ("game_hash", "salt"), [("AB" * 32, SALT), ("ab" * 31, SALT), (SECRET, "")]
)
def test_malformed_game_hashes_and_salts_are_refused(game_hash: str, salt: str) -> None:
    with pytest.raises(InvalidSeed):
        round_randomness(game_hash, salt)
