"""Stored hash chains and rounds on the real database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from croupier.core.errors import ServiceUnavailable
from croupier.crash.chain import create_chain, get_chain
from croupier.crash.errors import ChainExhausted, RoundAlreadySettled
from croupier.crash.rounds import RoundKey, RoundStatus, next_round_to_play, open_round
from croupier.crash.settlement import settle_round
from croupier.crash.tables import crash_chain_hashes
from croupier.games.hashchain import chain_round
from croupier.games.verifier import verify_crash
from tests.integration.crash.support import crash_points, new_chain

CAP_H = 100_000_000
# A salt as ops would choose it: the hash of a Bitcoin block mined after the chain's
# terminating hash was published.
BLOCK_HASH_SALT = "0000000000000000000301e2801a9a9598bfb114e574a91a887f2132f33047e6"


def test_a_stored_chain_is_played_from_its_published_end(engine: Engine) -> None:
    chain = create_chain(engine, 5, salt=BLOCK_HASH_SALT)
    with engine.connect() as conn:
        hashes = dict(
            conn.execute(
                select(crash_chain_hashes.c.round_number, crash_chain_hashes.c.game_hash).where(
                    crash_chain_hashes.c.chain_id == chain.id
                )
            ).all()
        )

    assert get_chain(engine, chain.id) == chain
    assert {number: chain_round(hashes[number], chain.terminating_hash) for number in hashes} == {
        1: 1,
        2: 2,
        3: 3,
        4: 4,
        5: 5,
    }


def test_a_round_is_bound_to_the_crash_point_its_hash_and_the_salt_give(engine: Engine) -> None:
    chain = new_chain(engine, length=3)

    opened = open_round(engine, RoundKey(chain.id, 2), max_multiplier_h=CAP_H)

    verified = verify_crash({}, game_hash=opened.game_hash, salt=chain.salt)
    assert verified["crash"] == f"{opened.crash_point_h // 100}.{opened.crash_point_h % 100:02d}"
    assert opened.crash_point_h == crash_points(engine, chain)[2]
    assert opened.status is RoundStatus.OPEN


def test_opening_a_round_again_changes_nothing(engine: Engine) -> None:
    chain = new_chain(engine, length=3)
    first = open_round(engine, RoundKey(chain.id, 1), max_multiplier_h=CAP_H)

    again = open_round(engine, RoundKey(chain.id, 1), max_multiplier_h=500)

    assert again == first  # the cap of the first opening stays


def test_a_used_up_chain_hands_over_to_the_next_one(engine: Engine) -> None:
    used_up = new_chain(engine, length=1)
    following = new_chain(engine, length=2)

    opened = open_round(engine, RoundKey(used_up.id, 2), max_multiplier_h=CAP_H)

    assert opened.key == RoundKey(following.id, 1)


def test_without_a_later_chain_opening_waits_as_a_retryable_outage(engine: Engine) -> None:
    last = new_chain(engine, length=1)

    with pytest.raises(ChainExhausted) as raised:
        open_round(engine, RoundKey(last.id, 2), max_multiplier_h=CAP_H)

    assert isinstance(raised.value, ServiceUnavailable)


def test_a_settled_round_is_never_played_again(engine: Engine) -> None:
    chain = new_chain(engine, length=3)
    opened = open_round(engine, RoundKey(chain.id, 1), max_multiplier_h=CAP_H)
    settle_round(
        engine,
        opened.key,
        [],
        started_at=opened.opened_at,
        ended_at=opened.opened_at,
        settled_at=opened.opened_at,
    )

    with pytest.raises(RoundAlreadySettled):
        open_round(engine, opened.key, max_multiplier_h=CAP_H)


def test_a_fresh_start_resumes_an_unsettled_round_or_plays_the_next(engine: Engine) -> None:
    chain = new_chain(engine, length=3)  # the newest chain: its rounds are the latest
    opened = open_round(engine, RoundKey(chain.id, 1), max_multiplier_h=CAP_H)
    resumed = next_round_to_play(engine)
    settle_round(
        engine,
        opened.key,
        [],
        started_at=opened.opened_at,
        ended_at=opened.opened_at,
        settled_at=opened.opened_at,
    )

    assert resumed == opened.key
    assert next_round_to_play(engine) == RoundKey(chain.id, 2)
