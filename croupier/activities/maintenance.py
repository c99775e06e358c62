"""Ledger maintenance activities: expire timed-out holds, create partitions ahead of need,
purge the API's expired request records.

All are idempotent by construction: expiring a hold that is already expired (or was
posted meanwhile) is skipped by the ledger, creating a partition that exists is a
no-op, and a purged row is gone for a second purge too. So a retried activity, or two
runs at once, do no harm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.betting import partitions as bet_partitions
from croupier.core.clock import Clock
from croupier.core.settings import Settings
from croupier.identity.request_records import (
    purge_expired_idempotency_keys,
    purge_idle_rate_limit_buckets,
)
from croupier.ledger import partitions as ledger_partitions
from croupier.ledger.posting import expire_pending

# Holds expired per activity call: one bounded statement; the workflow calls again while
# a batch comes back full.
EXPIRY_BATCH = 1000
# Expired hold ids carried back into history (the count is always exact).
MAX_REPORTED_IDS = 20
# Rows of each request table purged per activity call; again while a batch comes back full.
PURGE_BATCH = 5000


@dataclass(frozen=True)
class ExpiryResult:
    expired: int
    # A full batch: more holds may be overdue.
    more: bool
    first_ids: list[str]


@dataclass(frozen=True)
class PartitionResult:
    ledger_created: int
    bets_created: int


@dataclass(frozen=True)
class PurgeResult:
    idempotency_keys: int
    rate_limit_buckets: int
    # A full batch of either: more rows may be due.
    more: bool


class MaintenanceActivities:
    def __init__(self, engine: Engine, settings: Settings, clock: Clock) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock

    @activity.defn(name="maintenance.expire_holds")
    @maps_business_failures
    def expire_holds(self) -> ExpiryResult:
        expired = expire_pending(self._engine, self._clock, limit=EXPIRY_BATCH)
        return ExpiryResult(
            expired=len(expired),
            more=len(expired) == EXPIRY_BATCH,
            first_ids=list(expired[:MAX_REPORTED_IDS]),
        )

    @activity.defn(name="maintenance.ensure_partitions")
    @maps_business_failures
    def ensure_partitions(self) -> PartitionResult:
        months = self._settings.ledger_partition_months_ahead
        return PartitionResult(
            ledger_created=ledger_partitions.ensure_partitions(self._engine, months),
            bets_created=bet_partitions.ensure_partitions(self._engine, months),
        )

    @activity.defn(name="maintenance.purge_request_records")
    @maps_business_failures
    def purge_request_records(self) -> PurgeResult:
        """Idempotency-Keys past their time to live and rate-limit buckets gone idle."""
        now = self._clock.now()
        ttl = timedelta(seconds=self._settings.idempotency_key_ttl_s)
        keys = purge_expired_idempotency_keys(
            self._engine, created_before=now - ttl, limit=PURGE_BATCH
        )
        buckets = purge_idle_rate_limit_buckets(self._engine, now=now, limit=PURGE_BATCH)
        return PurgeResult(
            idempotency_keys=keys,
            rate_limit_buckets=buckets,
            more=PURGE_BATCH in (keys, buckets),
        )

    def all(self) -> list[Any]:
        """Every activity of this group, for the worker registry."""
        return [self.expire_holds, self.ensure_partitions, self.purge_request_records]
