"""Ops routes: the alert queue, reconciliation verdicts and the withdrawal circuit breaker.

Alerts are read and acknowledged here; they are raised by the checks themselves.
Reconciliation's latest run and the deposit addresses that disagree with their chain
are read here; the Reconciliation workflow writes them. The
breaker is tripped (by velocity or by hand) and resumed by a named staff member with a
reason; resuming then signals every withdrawal workflow the trip had parked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from temporalio.service import RPCError

from croupier.api.auth.models import problem_responses
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.monitoring import alerts, breaker, deposit_addresses, runs
from croupier.monitoring.alerts import AlertFilter, Severity
from croupier.monitoring.errors import NoReconciliationRun
from croupier.workflows.circuit_breaker import signal_paused_withdrawals

log = structlog.get_logger(__name__)

router = APIRouter(tags=["ops"])

State = Annotated[AppState, Depends(app_state)]
Reason = Annotated[str, Field(min_length=1, max_length=breaker.MAX_REASON_CHARS)]


class AlertResponse(BaseModel):
    id: int
    kind: str
    severity: Severity
    message: str
    details: dict[str, Any]
    dedup_key: str | None
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    acked_at: datetime | None
    acked_by: str | None
    ack_note: str | None

    @classmethod
    def of(cls, alert: alerts.Alert) -> AlertResponse:
        return cls(
            id=alert.id,
            kind=alert.kind,
            severity=alert.severity,
            message=alert.message,
            details=alert.details,
            dedup_key=alert.dedup_key,
            occurrences=alert.occurrences,
            first_seen_at=alert.first_seen_at,
            last_seen_at=alert.last_seen_at,
            acked_at=alert.acked_at,
            acked_by=alert.acked_by,
            ack_note=alert.ack_note,
        )


class AlertPageResponse(BaseModel):
    alerts: list[AlertResponse]
    next_cursor: str | None = Field(description="pass as `cursor` for older alerts")


class AckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=alerts.MAX_MESSAGE_CHARS)


class BreakerResponse(BaseModel):
    name: str
    paused: bool
    reason: str | None
    tripped_at: datetime | None
    tripped_by: str | None
    resumed_at: datetime | None
    resumed_by: str | None
    resume_reason: str | None

    @classmethod
    def of(cls, state: breaker.BreakerState) -> BreakerResponse:
        return cls(
            name=state.name,
            paused=state.paused,
            reason=state.reason,
            tripped_at=state.tripped_at,
            tripped_by=state.tripped_by,
            resumed_at=state.resumed_at,
            resumed_by=state.resumed_by,
            resume_reason=state.resume_reason,
        )


class BreakerDecision(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "burst reviewed: a tournament payout"}]},
    )

    reason: Reason


class ResumeResponse(BaseModel):
    breaker: BreakerResponse
    signalled_withdrawals: int = Field(description="parked withdrawal workflows signalled")
    signal_error: str | None = Field(
        default=None,
        description="set when Temporal could not be reached: the breaker is resumed all "
        "the same, and parked withdrawals notice it on their next periodic check",
    )


@router.get(
    "/admin/alerts", response_model=AlertPageResponse, responses=problem_responses(401, 403, 422)
)
async def list_alerts(
    state: State,
    status: AlertFilter = AlertFilter.OPEN,
    severity: Severity | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=alerts.MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
) -> AlertPageResponse:
    """Newest first; `status` picks open (default), acknowledged or all alerts."""

    def read() -> alerts.AlertPage:
        with state.engine.connect() as conn:
            return alerts.list_alerts(
                conn, status=status, severity=severity, kind=kind, limit=limit, cursor=cursor
            )

    page = await run_in_threadpool(read)
    return AlertPageResponse(
        alerts=[AlertResponse.of(a) for a in page.alerts], next_cursor=page.next_cursor
    )


@router.post(
    "/admin/alerts/{alert_id}/ack",
    response_model=AlertResponse,
    responses=problem_responses(401, 403, 404, 422),
)
async def ack_alert(alert_id: int, body: AckRequest, claims: Claims, state: State) -> AlertResponse:
    """Acknowledge an alert; the first acknowledgement stands. A recurrence of the same
    problem afterwards opens a new alert."""

    def ack() -> alerts.Alert:
        with state.engine.begin() as conn:
            return alerts.ack_alert(conn, alert_id, str(claims.user_id), body.note)

    return AlertResponse.of(await run_in_threadpool(ack))


class ReconciliationRunResponse(BaseModel):
    run_key: str = Field(description="the workflow id of the run")
    finished_at: datetime
    ok: bool
    ledger_violations: int
    wallet_mismatches: int
    deposit_mismatches: int
    house_drifts: int
    biased_games: int
    report: dict[str, Any] = Field(description="the run's result; amounts in minor units")


class DepositObservationResponse(BaseModel):
    chain: str
    address: str
    currency: str
    hd_index: int
    expected_low: str = Field(description="minor units: the least the records allow")
    expected_high: str = Field(description="minor units: the most the records allow")
    chain_balance: str = Field(description="minor units, as the chain said")
    mismatch_since: datetime | None
    observed_at: datetime

    @classmethod
    def of(cls, seen: deposit_addresses.Observation) -> DepositObservationResponse:
        return cls(
            chain=seen.chain,
            address=seen.address,
            currency=seen.currency.value,
            hd_index=seen.hd_index,
            expected_low=str(seen.expected_low),
            expected_high=str(seen.expected_high),
            chain_balance=str(seen.chain_balance),
            mismatch_since=seen.mismatch_since,
            observed_at=seen.observed_at,
        )


@router.get(
    "/admin/reconciliation",
    response_model=ReconciliationRunResponse,
    responses=problem_responses(401, 403, 404),
)
async def latest_reconciliation(state: State) -> ReconciliationRunResponse:
    """The latest reconciliation run's verdict and report (404 before the first run)."""

    def read() -> runs.RunRecord | None:
        with state.engine.connect() as conn:
            return runs.last_run(conn)

    record = await run_in_threadpool(read)
    if record is None:
        raise NoReconciliationRun("reconciliation has not run yet")
    summary = record.summary
    return ReconciliationRunResponse(
        run_key=summary.run_key,
        finished_at=record.finished_at,
        ok=summary.ok,
        ledger_violations=summary.ledger_violations,
        wallet_mismatches=summary.wallet_mismatches,
        deposit_mismatches=summary.deposit_mismatches,
        house_drifts=summary.house_drifts,
        biased_games=summary.biased_games,
        report=summary.report,
    )


@router.get(
    "/admin/reconciliation/deposit-addresses",
    response_model=list[DepositObservationResponse],
    responses=problem_responses(401, 403, 422),
)
async def mismatched_deposit_addresses(
    state: State,
    chain: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=deposit_addresses.MAX_LISTED)] = 50,
) -> list[DepositObservationResponse]:
    """Deposit addresses whose chain balance was outside what the records allow when
    last checked, longest-standing first (a surplus within its grace is listed too)."""

    def read() -> tuple[deposit_addresses.Observation, ...]:
        with state.engine.connect() as conn:
            return deposit_addresses.mismatched_observations(conn, chain=chain, limit=limit)

    return [DepositObservationResponse.of(seen) for seen in await run_in_threadpool(read)]


@router.get(
    "/admin/circuit-breaker", response_model=BreakerResponse, responses=problem_responses(401, 403)
)
async def get_breaker(state: State) -> BreakerResponse:
    def read() -> breaker.BreakerState:
        with state.engine.connect() as conn:
            return breaker.breaker_state(conn)

    return BreakerResponse.of(await run_in_threadpool(read))


@router.post(
    "/admin/circuit-breaker/trip",
    response_model=BreakerResponse,
    responses=problem_responses(401, 403, 409, 422),
)
async def trip_breaker(body: BreakerDecision, claims: Claims, state: State) -> BreakerResponse:
    """Pause withdrawal auto-approval now (an incident, a suspected exploit)."""

    def trip() -> breaker.BreakerState:
        with state.engine.begin() as conn:
            return breaker.trip(conn, str(claims.user_id), body.reason)

    return BreakerResponse.of(await run_in_threadpool(trip))


@router.post(
    "/admin/circuit-breaker/resume",
    response_model=ResumeResponse,
    responses=problem_responses(401, 403, 409, 422),
)
async def resume_breaker(body: BreakerDecision, claims: Claims, state: State) -> ResumeResponse:
    """Resume auto-approval and release the withdrawals the trip parked. Requests seen
    before the resume never count towards a new trip."""

    def resume() -> breaker.BreakerState:
        with state.engine.begin() as conn:
            return breaker.resume(conn, str(claims.user_id), body.reason)

    resumed = await run_in_threadpool(resume)
    assert resumed.resumed_at is not None and resumed.resumed_by is not None
    signal = breaker.BreakerResumed(
        resumed_by=resumed.resumed_by, reason=body.reason, resumed_at=resumed.resumed_at.isoformat()
    )
    try:
        signalled = await signal_paused_withdrawals(state.temporal, signal)
    except RPCError as error:
        log.warning("breaker_resume_signals_failed", error=str(error))
        return ResumeResponse(
            breaker=BreakerResponse.of(resumed), signalled_withdrawals=0, signal_error=str(error)
        )
    return ResumeResponse(breaker=BreakerResponse.of(resumed), signalled_withdrawals=signalled)
