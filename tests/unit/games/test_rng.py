"""The provably-fair byte stream: HMAC-SHA256 keyed by the server seed's ASCII hex."""

from __future__ import annotations

import hashlib
import hmac
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.games.errors import InvalidBet, InvalidSeed
from croupier.games.rng import (
    MAX_FLOATS_PER_BET,
    HmacSha256,
    float_words,
    stream_float_words,
    word_to_float,
)

SERVER_SEED = "ab" * 32
CLIENT_SEED = "client"


def _spec_floats(server_seed: str, client_seed: str, nonce: int, count: int) -> list[Fraction]:
    """The issue's definition, byte by byte: 4 bytes per float, 32 bytes per round."""
    stream = b"".join(
        hmac.new(server_seed.encode(), f"{client_seed}:{nonce}:{r}".encode(), "sha256").digest()
        for r in range(count // 8 + 1)
    )
    floats = []
    for cursor in range(0, 4 * count, 4):
        b0, b1, b2, b3 = stream[cursor : cursor + 4]
        floats.append(
            Fraction(b0, 256) + Fraction(b1, 256**2) + Fraction(b2, 256**3) + Fraction(b3, 256**4)
        )
    return floats


# RFC 4231 test cases 1, 2 and 6 (a key longer than the 64-byte block).
@pytest.mark.parametrize(
    ("key", "message", "expected_hex"),
    [
        (
            b"\x0b" * 20,
            b"Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            b"\xaa" * 131,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
    ],
)
def test_hmac_matches_rfc_4231_vectors(key: bytes, message: bytes, expected_hex: str) -> None:
    assert HmacSha256(key).digest(message).hex() == expected_hex


@given(key=st.binary(max_size=200), message=st.binary(max_size=300))
def test_hmac_matches_the_standard_library_for_any_key_and_message(
    key: bytes, message: bytes
) -> None:
    assert HmacSha256(key).digest(message) == hmac.digest(key, message, "sha256")


@given(key=st.binary(max_size=100), messages=st.lists(st.binary(max_size=100), max_size=20))
def test_many_digests_in_one_loop_equal_one_digest_per_message(
    key: bytes, messages: list[bytes]
) -> None:
    keyed = HmacSha256(key)
    assert keyed.digests(messages) == b"".join(keyed.digest(m) for m in messages)


def test_a_client_seed_with_percent_signs_is_hashed_as_written() -> None:
    client_seed = "100%-luck%d%s%%"
    words = float_words(SERVER_SEED, client_seed, 7, 9)
    assert [Fraction(w, 2**32) for w in words] == _spec_floats(SERVER_SEED, client_seed, 7, 9)


@given(
    nonce=st.integers(min_value=0, max_value=2**63 - 1),
    count=st.integers(min_value=1, max_value=MAX_FLOATS_PER_BET),
)
def test_float_words_are_the_specified_floats_times_2_to_the_32(nonce: int, count: int) -> None:
    words = float_words(SERVER_SEED, CLIENT_SEED, nonce, count)
    assert [Fraction(w, 2**32) for w in words] == _spec_floats(
        SERVER_SEED, CLIENT_SEED, nonce, count
    )


def test_the_ninth_float_is_read_from_round_1_of_the_stream() -> None:
    round_1 = hmac.digest(SERVER_SEED.encode(), f"{CLIENT_SEED}:5:1".encode(), "sha256")
    words = float_words(SERVER_SEED, CLIENT_SEED, 5, 9)
    assert words[8] == int.from_bytes(round_1[:4], "big")


def test_the_key_is_the_ascii_hex_of_the_server_seed_not_its_bytes() -> None:
    digest = hmac.digest(SERVER_SEED.encode("ascii"), f"{CLIENT_SEED}:0:0".encode(), "sha256")
    assert float_words(SERVER_SEED, CLIENT_SEED, 0, 1)[0] == int.from_bytes(digest[:4], "big")


def test_a_float_is_exactly_0_for_word_0_and_just_below_1_for_the_largest_word() -> None:
    assert word_to_float(0) == 0.0
    assert word_to_float(2**32 - 1) == 1 - 2**-32 < 1.0


def test_a_stream_over_many_nonces_equals_one_call_per_nonce() -> None:
    streamed = list(stream_float_words(SERVER_SEED, CLIENT_SEED, range(10, 20), 12))
    assert streamed == [float_words(SERVER_SEED, CLIENT_SEED, n, 12) for n in range(10, 20)]


def test_reading_fewer_floats_gives_a_prefix_of_the_longer_read() -> None:
    assert float_words(SERVER_SEED, CLIENT_SEED, 3, 24)[:5] == float_words(
        SERVER_SEED, CLIENT_SEED, 3, 5
    )


@pytest.mark.parametrize("count", [0, MAX_FLOATS_PER_BET + 1])
def test_a_bet_reads_a_bounded_number_of_floats(count: int) -> None:
    with pytest.raises(InvalidBet):
        float_words(SERVER_SEED, CLIENT_SEED, 0, count)


@pytest.mark.parametrize(
    ("server_seed", "client_seed", "nonce"),
    [
        ("AB" * 32, CLIENT_SEED, 0),  # the key is case-sensitive ASCII: only lowercase hex
        ("ab" * 31, CLIENT_SEED, 0),
        (SERVER_SEED, "", 0),
        (SERVER_SEED, "has space", 0),
        (SERVER_SEED, CLIENT_SEED, -1),
        (SERVER_SEED, CLIENT_SEED, 2**63),
    ],
)
def test_malformed_seeds_and_nonces_are_refused(
    server_seed: str, client_seed: str, nonce: int
) -> None:
    with pytest.raises(InvalidSeed):
        float_words(server_seed, client_seed, nonce, 1)


def test_a_stream_over_a_stepped_range_is_refused() -> None:
    with pytest.raises(InvalidSeed):
        next(stream_float_words(SERVER_SEED, CLIENT_SEED, range(0, 10, 2), 1))


def test_server_seed_hash_commitment_is_sha256_of_the_ascii_hex() -> None:
    from croupier.games.seeds import hash_server_seed

    expected = hashlib.sha256(SERVER_SEED.encode("ascii")).hexdigest()
    assert hash_server_seed(SERVER_SEED) == expected
