"""Liveness and readiness: ``/healthz`` answers 200 only when PostgreSQL and Temporal do."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from croupier import __version__
from croupier.api.state import AppState, app_state

router = APIRouter(tags=["health"])


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "unreachable"]
    temporal: Literal["ok", "unreachable"]


def _database_ok(state: AppState) -> bool:
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


async def _temporal_ok(state: AppState) -> bool:
    try:
        return await state.temporal.service_client.check_health()
    except Exception:  # any failure to answer means "not healthy"
        return False


@router.get(
    "/healthz",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "a dependency is unreachable"}},
)
async def healthz(state: Annotated[AppState, Depends(app_state)]) -> JSONResponse:
    database = await run_in_threadpool(_database_ok, state)
    temporal = await _temporal_ok(state)
    report = HealthReport(
        status="ok" if database and temporal else "degraded",
        version=__version__,
        database="ok" if database else "unreachable",
        temporal="ok" if temporal else "unreachable",
    )
    return JSONResponse(report.model_dump(), status_code=200 if report.status == "ok" else 503)
