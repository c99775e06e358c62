"""Round-trip a HealthCheck workflow through Temporal, a worker and PostgreSQL."""

from __future__ import annotations

import socket
from datetime import timedelta

from croupier.core.ids import new_uuid
from croupier.core.settings import Settings
from croupier.workflows.client import connect
from croupier.workflows.health import HealthCheckInput, HealthCheckResult, HealthCheckWorkflow


async def run_health_check(settings: Settings, *, timeout_s: float = 30.0) -> HealthCheckResult:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    return await client.execute_workflow(
        HealthCheckWorkflow.run,
        HealthCheckInput(requested_by=socket.gethostname()),
        id=f"health-check-{new_uuid()}",
        task_queue=settings.temporal_task_queue,
        execution_timeout=timedelta(seconds=timeout_s),
    )
