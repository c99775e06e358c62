"""Prometheus metrics the monitoring domain records in whatever process raises them.

Gauges that describe the database (open alerts, breaker state, wallet balances, the
last reconciliation) are not here: every replica would disagree about them. They are
read at scrape time by ``croupier.monitoring.collector``.
"""

from __future__ import annotations

from prometheus_client import Counter

ALERTS_RAISED = Counter(
    "croupier_alerts_raised",
    "Money alarms raised (a repeat of an open alert counts again).",
    ["kind", "severity"],
)
