"""Health probe activity: proves a worker can reach the database it settles money in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text
from temporalio import activity


@dataclass(frozen=True)
class DatabaseProbe:
    server_version: str
    database: str
    server_time: str


class HealthActivities:
    """Activities bound to the worker's engine (dependency injection, no globals)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="health.probe_database")
    def probe_database(self) -> DatabaseProbe:
        with self._engine.connect() as conn:
            row = conn.execute(
                text("SELECT current_setting('server_version'), current_database(), now()::text")
            ).one()
        return DatabaseProbe(server_version=row[0], database=row[1], server_time=row[2])
