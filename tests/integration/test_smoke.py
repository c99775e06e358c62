"""The harness end to end: real dev server, real worker, real PostgreSQL."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text
from temporalio.client import Client

from croupier.ledger import migrate
from croupier.workflows.health import HealthCheckInput, HealthCheckWorkflow


async def test_health_workflow_reaches_the_database_through_a_worker(
    temporal_client: Client, worker: str, engine: Engine
) -> None:
    result = await temporal_client.execute_workflow(
        HealthCheckWorkflow.run,
        HealthCheckInput(requested_by="smoke-test"),
        id=f"health-check-{uuid.uuid4()}",
        task_queue=worker,
    )

    with engine.connect() as conn:
        expected_database = conn.execute(text("SELECT current_database()")).scalar_one()
    assert result.worker_reached
    assert result.requested_by == "smoke-test"
    assert result.database.database == expected_database
    assert int(result.database.server_version.split(".")[0]) >= 14


def test_session_database_is_migrated_to_head(database_url: str) -> None:
    assert migrate.current_revisions(database_url) == migrate.head_revisions()
