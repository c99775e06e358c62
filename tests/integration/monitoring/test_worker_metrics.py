"""The worker's two Prometheus endpoints: database gauges, and the Temporal SDK's own."""

from __future__ import annotations

import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import Engine
from structlog.testing import capture_logs
from temporalio.client import Client
from temporalio.worker import Worker

from croupier.activities.health import HealthActivities
from croupier.core.settings import Settings
from croupier.ledger.db import make_engine
from croupier.monitoring.collector import DatabaseCollector
from croupier.monitoring.runs import RunSummary, record_run
from croupier.workers.metrics import start_worker_metrics, temporal_runtime
from croupier.workers.processes import free_port
from croupier.workflows.client import DATA_CONVERTER
from croupier.workflows.health import HealthCheckInput, HealthCheckWorkflow
from tests.integration.api.test_ops_routes import metric_value

LOCAL_HOST = "127.0.0.1"


def scrape(port: int) -> str:
    response = httpx.get(f"http://{LOCAL_HOST}:{port}/metrics", timeout=10)
    assert response.status_code == 200
    return response.text


def test_the_worker_endpoint_reports_the_books_from_the_database(
    settings: Settings, engine: Engine
) -> None:
    run_key = f"metrics-test-{uuid.uuid4()}"
    record_run(engine, RunSummary(run_key, 0, 2, 0, 0, {"note": "a test run"}))
    port = free_port(LOCAL_HOST)
    server = start_worker_metrics(
        settings.model_copy(update={"worker_metrics_port": port, "metrics_host": LOCAL_HOST}),
        engine,
        CollectorRegistry(),
    )
    assert server is not None
    try:
        body = scrape(port)
    finally:
        server.shutdown()

    assert "croupier_metrics_database_up 1.0" in body
    assert "croupier_reconciliation_last_run_ok 0.0" in body
    assert (
        metric_value(
            body, "croupier_reconciliation_last_run_findings", {"check": "wallet_mismatches"}
        )
        == 2
    )
    assert metric_value(body, "croupier_circuit_breaker_paused", {"breaker": "withdrawals"}) in {
        0,
        1,
    }
    assert metric_value(body, "croupier_alerts_open", {"severity": "critical"}) is not None
    assert (
        metric_value(
            body,
            "croupier_withdrawals_in_progress",
            {"status": "awaiting_approval", "currency": "ETH"},
        )
        is not None
    )
    assert metric_value(body, "croupier_bets_settled_recent", {"game": "dice"}) is not None


def test_an_unreachable_database_reports_down_instead_of_stale_figures() -> None:
    unreachable = make_engine(
        f"postgresql://nobody@{LOCAL_HOST}:{free_port(LOCAL_HOST)}/none", connect_timeout_s=1
    )
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(unreachable))

    assert registry.get_sample_value("croupier_metrics_database_up") == 0
    assert registry.get_sample_value("croupier_alerts_open", {"severity": "critical"}) is None


def test_a_database_scrape_is_reused_within_the_refresh_interval(engine: Engine) -> None:
    clock = [100.0]
    collector = DatabaseCollector(engine, refresh_s=10, monotonic=lambda: clock[0])
    first = list(collector.collect())

    clock[0] += 5
    cached = list(collector.collect())
    clock[0] += 10
    fresh = list(collector.collect())

    assert cached == first and fresh is not first
    assert all(a is b for a, b in zip(cached, first, strict=True))
    assert not all(a is b for a, b in zip(fresh, first, strict=True))


async def test_the_temporal_endpoint_counts_workflows_by_type(
    settings: Settings, temporal_address: str, engine: Engine
) -> None:
    port = free_port(LOCAL_HOST)
    runtime = temporal_runtime(
        settings.model_copy(update={"temporal_metrics_port": port, "metrics_host": LOCAL_HOST})
    )
    assert runtime is not None
    client = await Client.connect(temporal_address, runtime=runtime, data_converter=DATA_CONVERTER)
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    health = HealthActivities(engine)
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[HealthCheckWorkflow],
            activities=[health.probe_database],
            activity_executor=executor,
        ):
            await client.execute_workflow(
                HealthCheckWorkflow.run,
                HealthCheckInput(requested_by="metrics-test"),
                id=f"metrics-{uuid.uuid4()}",
                task_queue=queue,
            )

    body = scrape(port)

    completed = [
        line
        for line in body.splitlines()
        if line.startswith("temporal_workflow_completed_total{")
        and 'workflow_type="HealthCheck"' in line
    ]
    assert completed and float(completed[0].rsplit(" ", 1)[1]) >= 1
    assert "temporal_activity_execution_latency" in body


def test_a_taken_metrics_port_leaves_the_worker_running_without_that_endpoint(
    settings: Settings, engine: Engine
) -> None:
    with socket.socket() as taken:
        taken.bind((LOCAL_HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        clashing = settings.model_copy(
            update={
                "worker_metrics_port": port,
                "temporal_metrics_port": port,
                "metrics_host": LOCAL_HOST,
            }
        )

        with capture_logs() as logs:
            assert start_worker_metrics(clashing, engine, CollectorRegistry()) is None
            assert temporal_runtime(clashing) is None

    assert [entry["event"] for entry in logs] == ["metrics_endpoint_unavailable"] * 2
