"""The harness end to end: real dev server, real worker, real PostgreSQL."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text
from temporalio.client import Client

from croupier.ledger import migrate
from croupier.ledger.db import drop_database, ensure_database
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
    assert migrate.missing_revisions(database_url) == set()
    assert migrate.current_revisions(database_url)


def test_an_empty_database_reports_every_revision_missing(postgres_server_url: str) -> None:
    name = f"croupier_empty_{uuid.uuid4().hex[:8]}"
    url = ensure_database(postgres_server_url, name)
    try:
        missing = migrate.missing_revisions(url)
    finally:
        drop_database(postgres_server_url, name)
    assert migrate.head_revisions() <= missing
    assert "0001_ledger" in missing
