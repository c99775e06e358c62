"""Holds time out: the sweeper releases them, and a late post is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from croupier.core.clock import ManualClock
from croupier.core.errors import InvalidInput
from croupier.core.money import Currency
from croupier.ledger import (
    HoldRequest,
    PostPendingRequest,
    TransferType,
    VoidPendingRequest,
    balance,
    expire_pending,
    hold,
    post_pending,
    void_pending,
)
from croupier.ledger.errors import PendingExpired
from croupier.ledger.posting import MAX_EXPIRE_LIMIT
from tests.integration.ledger.conftest import Books, private_database

ETH = Currency.ETH


@pytest.fixture(scope="module")
def engine(postgres_server_url: str) -> Iterator[Engine]:
    """This module's own database: expiring holds is global by design, and sweeping with a
    clock hours ahead must not expire holds that other tests' workflows still wait on."""
    yield from private_database(postgres_server_url)


def stake(books: Books, player_id: int, amount: int, timeout_s: int | None) -> HoldRequest:
    return HoldRequest(
        books.tid("stake"),
        player_id,
        books.house.id,
        amount,
        ETH,
        TransferType.BET,
        timeout_s=timeout_s,
    )


def sweep_all(books: Books, clock: ManualClock) -> set[str]:
    """Expire everything due (other tests' holds too), return the ids expired."""
    expired: set[str] = set()
    while True:
        batch = expire_pending(books.engine, clock, limit=500)
        expired.update(batch)
        if len(batch) < 500:
            return expired


def test_the_sweeper_expires_only_holds_past_their_timeout(books: Books) -> None:
    player = books.player(funded=1_000)
    short = hold(books.engine, stake(books, player.id, 100, timeout_s=60))
    long = hold(books.engine, stake(books, player.id, 200, timeout_s=3_600))
    forever = hold(books.engine, stake(books, player.id, 300, timeout_s=None))
    assert short.expires_at is not None
    clock = ManualClock(short.expires_at + timedelta(seconds=1))

    expired = sweep_all(books, clock)

    assert short.id in expired and long.id not in expired and forever.id not in expired
    after = balance(books.engine, player.id)
    assert (after.posted, after.pending) == (1_000, 500)


def test_an_expired_hold_cannot_be_posted_or_voided(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 100, timeout_s=60))
    assert held.expires_at is not None
    sweep_all(books, ManualClock(held.expires_at))
    before = books.state()

    with pytest.raises(PendingExpired, match=rf"pending transfer {held.id} expired at"):
        post_pending(books.engine, PostPendingRequest(books.tid("post"), held.id))
    with pytest.raises(PendingExpired):
        void_pending(books.engine, VoidPendingRequest(books.tid("void"), held.id))

    assert books.state() == before
    assert books.available(player) == 1_000


def test_a_hold_past_its_timeout_is_refused_even_before_the_sweeper_runs(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 100, timeout_s=1))
    assert held.expires_at is not None
    with books.engine.connect() as conn:
        # Wait on the database clock itself, the one the posting compares against.
        conn.exec_driver_sql("SELECT pg_sleep_until(%s)", (held.expires_at,))

    with pytest.raises(PendingExpired):
        post_pending(books.engine, PostPendingRequest(books.tid("post"), held.id))


def test_sweeping_twice_expires_nothing_more(books: Books) -> None:
    player = books.player(funded=1_000)
    held = hold(books.engine, stake(books, player.id, 100, timeout_s=60))
    assert held.expires_at is not None
    clock = ManualClock(held.expires_at)
    sweep_all(books, clock)

    assert held.id not in sweep_all(books, clock)
    assert books.available(player) == 1_000


def test_the_sweep_size_is_bounded(books: Books) -> None:
    clock = ManualClock(datetime.now(UTC))
    for limit in (0, MAX_EXPIRE_LIMIT + 1):
        with pytest.raises(InvalidInput, match="limit"):
            expire_pending(books.engine, clock, limit=limit)
