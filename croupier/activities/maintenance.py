"""Ledger maintenance activities: expire timed-out holds, create partitions ahead of need.

Both are idempotent by construction: expiring a hold that is already expired (or was
posted meanwhile) is skipped by the ledger, and creating a partition that exists is a
no-op. So a retried activity, or two runs at once, do no harm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.betting import partitions as bet_partitions
from croupier.core.clock import Clock
from croupier.core.settings import Settings
from croupier.ledger import partitions as ledger_partitions
from croupier.ledger.posting import expire_pending

# Holds expired per activity call: one bounded statement; the workflow calls again while
# a batch comes back full.
EXPIRY_BATCH = 1000
# Expired hold ids carried back into history (the count is always exact).
MAX_REPORTED_IDS = 20


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

    def all(self) -> list[Any]:
        """Every activity of this group, for the worker registry."""
        return [self.expire_holds, self.ensure_partitions]
