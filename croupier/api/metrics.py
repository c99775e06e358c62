"""Prometheus for the API: a latency histogram per route template, and ``GET /metrics``.

Routes are labelled by their template (``/admin/alerts/{alert_id}/ack``), never the
concrete path, so label cardinality stays the number of routes; requests that match no
route share the label ``<unmatched>``. ``/metrics`` is public in the RBAC table like
``/healthz``: expose it to the scraper's network only (block it at the ingress).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "<unmatched>"

REQUEST_DURATION = Histogram(
    "croupier_http_request_duration_seconds",
    "HTTP request latency by method, route template and status code.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Pure ASGI middleware: times each HTTP request until its response has started."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response started is a server error

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            REQUEST_DURATION.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
