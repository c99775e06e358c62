"""Purging Idempotency-Keys past their time to live and idle rate-limit buckets changes
nothing a caller can observe, and never breaks a request that races it.

Rows are written at dates far in the past (a manual clock), so the purges here touch
only this module's rows in the session's shared database; the limit test writes the
oldest of all, so its oldest-first batch is its own.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text

from croupier.api.idempotency import IdempotencyStore, StoredResponse
from croupier.api.ratelimit import RateLimiter, RateRule
from croupier.core.clock import ManualClock
from croupier.core.errors import IdempotencyConflict, RateLimited
from croupier.identity.request_records import (
    purge_expired_idempotency_keys,
    purge_idle_rate_limit_buckets,
)
from croupier.identity.tables import idempotency_keys
from tests.integration.compliance.people import make_user

TTL = timedelta(hours=24)
LOCK_TIMEOUT = timedelta(seconds=60)
RULE = RateRule("purge-test", limit=2, period=timedelta(minutes=1), describes="test requests")
FINGERPRINT_A = b"a" * 32
FINGERPRINT_B = b"b" * 32


def store_at(engine: Engine, start: datetime) -> tuple[IdempotencyStore, ManualClock]:
    clock = ManualClock(start)
    return IdempotencyStore(engine, clock, ttl=TTL, lock_timeout=LOCK_TIMEOUT), clock


def key_exists(engine: Engine, user_id: uuid.UUID, key: str) -> bool:
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(idempotency_keys)
            .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
        ).scalar_one()
    return bool(count)


def test_only_keys_past_their_time_to_live_are_purged(engine: Engine) -> None:
    user = make_user(engine)
    store, clock = store_at(engine, datetime(2001, 3, 1, tzinfo=UTC))
    assert store.claim(user, "old", FINGERPRINT_A) is None
    store.complete(user, "old", StoredResponse(201, {"id": 1}))
    clock.advance(timedelta(hours=2))
    assert store.claim(user, "recent", FINGERPRINT_A) is None
    store.complete(user, "recent", StoredResponse(201, {"id": 2}))

    # An hour after "old" expired: "recent" has an hour to live.
    clock.advance(TTL - timedelta(hours=1))
    purged = purge_expired_idempotency_keys(engine, created_before=clock.now() - TTL, limit=1000)

    assert purged >= 1
    assert not key_exists(engine, user, "old")
    assert key_exists(engine, user, "recent")
    # The kept key still replays; with another request it is still a conflict.
    assert store.claim(user, "recent", FINGERPRINT_A) == StoredResponse(201, {"id": 2})
    with pytest.raises(IdempotencyConflict):
        store.claim(user, "recent", FINGERPRINT_B)
    # The purged one is free, as it was (expired) before the purge.
    assert store.claim(user, "old", FINGERPRINT_B) is None


def test_a_purge_deletes_at_most_its_limit_oldest_first(engine: Engine) -> None:
    user = make_user(engine)
    store, clock = store_at(engine, datetime(1991, 5, 1, tzinfo=UTC))
    for index in range(5):
        assert store.claim(user, f"k{index}", FINGERPRINT_A) is None
        clock.advance(timedelta(minutes=1))

    purged = purge_expired_idempotency_keys(
        engine, created_before=datetime(1991, 5, 1, 0, 10, tzinfo=UTC), limit=2
    )

    assert purged == 2
    assert [key_exists(engine, user, f"k{index}") for index in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_a_claim_that_finds_its_key_purged_under_it_takes_the_key_afresh(
    engine: Engine,
) -> None:
    """The claim's insert finds the expired row, the purge (holding the row's lock)
    deletes it, and the claim's locking read then finds nothing: the claim must take the
    key, not fail with a 500."""
    user = make_user(engine)
    store, clock = store_at(engine, datetime(2003, 7, 1, tzinfo=UTC))
    assert store.claim(user, "raced", FINGERPRINT_A) is None
    store.complete(user, "raced", StoredResponse(201, {"first": True}))
    clock.advance(TTL + timedelta(minutes=1))
    claimed: list[StoredResponse | Exception | None] = []

    with engine.connect() as purger:
        purger.begin()
        purger.execute(
            text("SELECT 1 FROM idempotency_keys WHERE user_id = :u AND key = 'raced' FOR UPDATE"),
            {"u": user},
        )

        def claim() -> None:
            try:
                claimed.append(store.claim(user, "raced", FINGERPRINT_B))
            except Exception as error:  # the assertion below names it
                claimed.append(error)

        claimer = threading.Thread(target=claim)
        claimer.start()
        _wait_until_a_backend_waits_for_a_lock(engine)
        purger.execute(
            text("DELETE FROM idempotency_keys WHERE user_id = :u AND key = 'raced'"),
            {"u": user},
        )
        purger.commit()
        claimer.join(timeout=30)

    assert claimed == [None]
    assert key_exists(engine, user, "raced")


def _wait_until_a_backend_waits_for_a_lock(engine: Engine) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND query LIKE '%idempotency_keys%'"
                )
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the claim never waited for the purge's row lock")


def test_an_idle_bucket_is_purged_and_a_purged_bucket_limits_as_a_kept_one_would(
    engine: Engine,
) -> None:
    clock = ManualClock(datetime(2004, 9, 1, tzinfo=UTC))
    limiter = RateLimiter(engine, clock)
    idle, busy = f"idle-{uuid.uuid4()}", f"busy-{uuid.uuid4()}"
    limiter.hit(RULE, idle)
    limiter.hit(RULE, idle)
    with pytest.raises(RateLimited):
        limiter.hit(RULE, idle)
    clock.advance(timedelta(seconds=45))
    limiter.hit(RULE, busy)
    limiter.hit(RULE, busy)
    # idle's two requests are a minute old (its arrival time has passed); busy's are not.
    clock.advance(timedelta(seconds=16))
    before = _bucket_count(engine)

    purged = purge_idle_rate_limit_buckets(engine, now=clock.now(), limit=100_000)

    assert purged >= 1
    assert _bucket_count(engine) == before - purged
    with pytest.raises(RateLimited):
        limiter.hit(RULE, busy)  # kept, and still full
    # The purged subject gets a full burst again, as its idle bucket would have given.
    limiter.hit(RULE, idle)
    limiter.hit(RULE, idle)
    with pytest.raises(RateLimited):
        limiter.hit(RULE, idle)


def _bucket_count(engine: Engine) -> int:
    with engine.connect() as conn:
        count: int = conn.execute(text("SELECT count(*) FROM rate_limit_buckets")).scalar_one()
    return count
