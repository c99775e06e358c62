"""Typed refusals of the monitoring domain."""

from __future__ import annotations

from croupier.core.errors import Conflict, NotFound


class AlertNotFound(NotFound):
    code = "alert_not_found"


class BreakerNotTripped(Conflict):
    """Resuming a breaker that is not tripped: someone else resumed it already."""

    code = "circuit_breaker_not_tripped"


class BreakerAlreadyTripped(Conflict):
    code = "circuit_breaker_already_tripped"


class NoReconciliationRun(NotFound):
    """Reading the latest reconciliation before any run finished."""

    code = "reconciliation_not_run"
