"""Rate limits shared by every API replica: one GCRA bucket per (rule, subject) in PostgreSQL.

GCRA (the generic cell rate algorithm) is a token bucket kept as one timestamp, the
"theoretical arrival time" (TAT) of the next request: a rule of ``limit`` requests per
``period`` spaces requests ``period / limit`` apart and tolerates a burst of ``limit``.
A request at ``now`` is allowed when ``max(tat, now) + interval - now <= period``;
when refused, the wait until it would be allowed is exact, which is the Retry-After.

One upsert decides and records atomically (the row lock serialises racing replicas),
so there is no read-then-write race. The table is UNLOGGED: a database crash resets
every limit, which errs towards letting people in, never towards losing money.
Subjects (IP addresses, emails, user ids) are stored hashed: the table holds no PII.
Rows are one per rule and subject; the LedgerMaintenance schedule purges idle ones
(``croupier.identity.request_records``), which allow a request exactly as no row would.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy import Engine, text

from croupier.core.clock import Clock
from croupier.core.errors import RateLimited

_SUBJECT_HASH_HEX_CHARS = 32

_HIT_SQL = text(
    """
    WITH request AS (
        SELECT CAST(:now AS timestamptz) AS now,
               CAST(:interval AS interval) AS step,
               CAST(:period AS interval) AS period
    )
    INSERT INTO rate_limit_buckets AS b (bucket, theoretical_arrival_at, last_allowed)
    SELECT :bucket, request.now + request.step, true FROM request
    ON CONFLICT (bucket) DO UPDATE SET
        last_allowed = (
            SELECT GREATEST(b.theoretical_arrival_at, now) + step <= now + period FROM request
        ),
        theoretical_arrival_at = (
            SELECT CASE
                WHEN GREATEST(b.theoretical_arrival_at, now) + step <= now + period
                THEN GREATEST(b.theoretical_arrival_at, now) + step
                ELSE b.theoretical_arrival_at
            END
            FROM request
        )
    RETURNING theoretical_arrival_at, last_allowed
    """
)


@dataclass(frozen=True, slots=True)
class RateRule:
    """``limit`` requests per ``period`` (and bursts of up to ``limit``) per subject."""

    name: str
    limit: int
    period: timedelta
    # Completes "too many ...": for example "login attempts from this address".
    describes: str

    def __post_init__(self) -> None:
        assert self.limit >= 1 and self.period > timedelta(0)
        assert self.name.replace("-", "").isalnum(), "rule names are part of bucket keys"

    @property
    def interval(self) -> timedelta:
        return self.period / self.limit


class RateLimiter:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def hit(self, rule: RateRule, subject: str) -> None:
        """Count one request by ``subject`` under ``rule``; raise ``RateLimited`` if over."""
        now = self._clock.now()
        digest = hashlib.sha256(subject.encode()).hexdigest()[:_SUBJECT_HASH_HEX_CHARS]
        with self._engine.begin() as conn:
            row = conn.execute(
                _HIT_SQL,
                {
                    "bucket": f"{rule.name}:{digest}",
                    "now": now,
                    "interval": rule.interval,
                    "period": rule.period,
                },
            ).one()
        if row.last_allowed:
            return
        allowed_from = row.theoretical_arrival_at + rule.interval - rule.period
        retry_after_s = max(1, math.ceil((allowed_from - now).total_seconds()))
        raise RateLimited(
            f"too many {rule.describes}; retry in {retry_after_s} s", retry_after_s=retry_after_s
        )


def client_ip(request: Request) -> str:
    """The peer address as the ASGI server reports it.

    Behind a proxy, run uvicorn with ``--proxy-headers --forwarded-allow-ips`` naming the
    proxy: it then rewrites the peer from X-Forwarded-For. Reading that header here would
    let any client pick its own rate-limit bucket.
    """
    return request.client.host if request.client is not None else "unknown"
