"""A trivial workflow that round-trips through a worker and the database.

Ops run it (``croupier doctor``) to prove that Temporal, a worker and PostgreSQL are
wired together; the smoke test runs it for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from croupier.activities.health import DatabaseProbe, HealthActivities


@dataclass(frozen=True)
class HealthCheckInput:
    requested_by: str


@dataclass(frozen=True)
class HealthCheckResult:
    requested_by: str
    worker_reached: bool
    database: DatabaseProbe


@workflow.defn(name="HealthCheck")
class HealthCheckWorkflow:
    @workflow.run
    async def run(self, request: HealthCheckInput) -> HealthCheckResult:
        probe = await workflow.execute_activity_method(
            HealthActivities.probe_database,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        return HealthCheckResult(
            requested_by=request.requested_by, worker_reached=True, database=probe
        )
