"""Seed lifecycle: commit to a hash, play with increasing nonces, reveal on rotation."""

from __future__ import annotations

import hashlib

import pytest

from croupier.games.errors import InvalidSeed
from croupier.games.seeds import (
    MAX_NONCE,
    SeedPair,
    check_client_seed,
    check_salt,
    generate_server_seed,
)


def test_a_generated_server_seed_is_64_lowercase_hex_and_fresh_each_time() -> None:
    seeds = {generate_server_seed() for _ in range(100)}
    assert len(seeds) == 100
    assert all(len(s) == 64 and s == s.lower() and int(s, 16) >= 0 for s in seeds)


def test_the_shown_hash_commits_to_the_server_seed() -> None:
    pair = SeedPair.new("my-seed")
    assert pair.server_seed_hash == hashlib.sha256(pair.server_seed.encode()).hexdigest()


def test_the_server_seed_never_appears_in_the_pairs_repr() -> None:
    pair = SeedPair.new("my-seed")
    assert pair.server_seed not in repr(pair)


def test_each_bet_advances_the_nonce_by_one() -> None:
    pair = SeedPair.new("my-seed")
    nonces = []
    for _ in range(5):
        nonces.append(pair.nonce)
        pair = pair.advance()
    assert nonces == [0, 1, 2, 3, 4]
    assert pair.nonce == 5


def test_setting_a_client_seed_rotates_the_pair_and_reveals_the_old_server_seed() -> None:
    old = SeedPair.new("first").advance().advance().advance()
    new, revealed = old.rotate("second")
    assert revealed.server_seed == old.server_seed
    assert revealed.server_seed_hash == old.server_seed_hash
    assert (revealed.client_seed, revealed.bets) == ("first", 3)
    assert (new.client_seed, new.nonce) == ("second", 0)
    assert new.server_seed != old.server_seed


def test_a_rotation_that_keeps_the_server_seed_is_refused() -> None:
    pair = SeedPair.new("first")
    with pytest.raises(InvalidSeed):
        pair.rotate("second", server_seed=pair.server_seed)


def test_a_rotation_may_use_a_server_seed_committed_in_advance() -> None:
    committed = generate_server_seed()
    new, _ = SeedPair.new("first").rotate("second", server_seed=committed)
    assert new.server_seed == committed


def test_the_last_nonce_cannot_be_advanced_past() -> None:
    pair = SeedPair(generate_server_seed(), "seed", MAX_NONCE)
    with pytest.raises(InvalidSeed):
        pair.advance()


@pytest.mark.parametrize("client_seed", ["", "a b", "x" * 65, "naïve", "tab\t"])
def test_client_seeds_are_printable_ascii_without_spaces(client_seed: str) -> None:
    with pytest.raises(InvalidSeed):
        check_client_seed(client_seed)


def test_client_seeds_may_use_any_printable_ascii() -> None:
    assert check_client_seed("a:b/c!~" + "x" * 57) == "a:b/c!~" + "x" * 57


@pytest.mark.parametrize("salt", ["", "with space", "s" * 129])
def test_crash_salts_are_bounded_printable_ascii(salt: str) -> None:
    with pytest.raises(InvalidSeed):
        check_salt(salt)
