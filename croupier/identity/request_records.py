"""Forgetting what the API remembered per request once it can no longer matter.

Every money-moving request leaves an ``idempotency_keys`` row (with the response it
replays), and every rate-limited caller a ``rate_limit_buckets`` row; neither table
would otherwise stop growing. Ledger maintenance calls these purges on its schedule.

Both deletes change nothing anyone can observe:

- a key older than its time to live is one a new request may reuse anyway (the claim
  overwrites it), so deleting it only does that overwrite's work early;
- a bucket whose theoretical arrival time has passed allows the next request exactly as
  a bucket that does not exist would (GCRA starts from ``max(tat, now)``).

Each call deletes at most ``limit`` rows, oldest first, and skips rows a request holds
locked at that moment (the next run takes them), so a purge never waits on, or makes
wait, a request in flight.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, and_, delete, select

from croupier.identity.tables import idempotency_keys, rate_limit_buckets


def purge_expired_idempotency_keys(engine: Engine, *, created_before: datetime, limit: int) -> int:
    """Delete up to ``limit`` keys created at or before ``created_before`` (now minus the
    time to live); returns how many went."""
    oldest = (
        select(idempotency_keys.c.user_id, idempotency_keys.c.key)
        .where(idempotency_keys.c.created_at <= created_before)
        .order_by(idempotency_keys.c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    statement = delete(idempotency_keys).where(
        and_(
            idempotency_keys.c.user_id == oldest.c.user_id,
            idempotency_keys.c.key == oldest.c.key,
        )
    )
    with engine.begin() as conn:
        return conn.execute(statement).rowcount


def purge_idle_rate_limit_buckets(engine: Engine, *, now: datetime, limit: int) -> int:
    """Delete up to ``limit`` buckets that would allow a request at ``now`` as a fresh
    bucket would; returns how many went."""
    idle = (
        select(rate_limit_buckets.c.bucket)
        .where(rate_limit_buckets.c.theoretical_arrival_at <= now)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    statement = delete(rate_limit_buckets).where(rate_limit_buckets.c.bucket == idle.c.bucket)
    with engine.begin() as conn:
        return conn.execute(statement).rowcount
