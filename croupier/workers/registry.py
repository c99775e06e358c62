"""The one list of workflows and activities a Croupier worker runs.

Every new workflow or activity group is added here, so the worker, the tests and the
replay checks agree on what exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from croupier.activities.health import HealthActivities
from croupier.core.settings import Settings
from croupier.workflows.health import HealthCheckWorkflow


@dataclass(frozen=True)
class WorkerDeps:
    """What activities are built from: long-lived clients owned by the worker process."""

    settings: Settings
    engine: Engine


def workflows() -> Sequence[type]:
    return [HealthCheckWorkflow]


def activities(deps: WorkerDeps) -> Sequence[Callable[..., Any]]:
    health = HealthActivities(deps.engine)
    return [health.probe_database]
