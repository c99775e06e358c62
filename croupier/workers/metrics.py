"""The worker's Prometheus endpoints.

Two scrape targets per worker process:

- ``metrics_host:worker_metrics_port`` (prometheus_client): this process's counters
  (alerts raised) and the database gauges of ``croupier.monitoring.collector``;
- ``metrics_host:temporal_metrics_port`` (the Temporal SDK's own exporter): workflow and
  activity task counts, failures and latencies (``temporal_workflow_failed``,
  ``temporal_activity_execution_failed``, ...), labelled by workflow and activity type.

A port of 0 turns that endpoint off (several workers on one host need distinct ports).
A port already taken is logged as an error and the worker runs on without that endpoint:
Prometheus then reports the target down, and no money waits on a metrics port.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, start_http_server
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import Engine
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from croupier.core.settings import Settings
from croupier.monitoring.collector import DatabaseCollector
from croupier.workers.logs import get_logger

log = get_logger(__name__)


def start_worker_metrics(
    settings: Settings, engine: Engine, registry: CollectorRegistry = REGISTRY
) -> WSGIServer | None:
    """Serve ``/metrics`` on a daemon thread; the caller shuts the server down."""
    if settings.worker_metrics_port == 0:
        return None
    try:
        server, _ = start_http_server(
            settings.worker_metrics_port, addr=settings.metrics_host, registry=registry
        )
    except OSError as error:
        log.error(
            "metrics_endpoint_unavailable", port=settings.worker_metrics_port, error=str(error)
        )
        return None
    registry.register(DatabaseCollector(engine))
    return server


def temporal_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime exporting the SDK's metrics, or None when turned off."""
    if settings.temporal_metrics_port == 0:
        return None
    bind_address = f"{settings.metrics_host}:{settings.temporal_metrics_port}"
    metrics = PrometheusConfig(
        bind_address=bind_address, counters_total_suffix=True, durations_as_seconds=True
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=metrics))
    except ValueError as error:  # the SDK reports a port already taken this way
        log.error(
            "metrics_endpoint_unavailable", port=settings.temporal_metrics_port, error=str(error)
        )
        return None
