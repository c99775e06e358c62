"""``/limits``, ``/self-exclusion``, ``/cool-off``: a player's responsible-gambling choices.

A stricter limit is in force when the answer arrives; a looser one (or removing one)
is pending for 24 hours, put in force by a limit-change workflow's timer. If starting
that workflow fails, the answer is 503 and the pending change stays: sending the same
request again returns the same change (the 24 hours are not restarted) and starts the
workflow then.
"""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool

from croupier.api.auth.models import problem_responses
from croupier.api.auth.runtime import auth_runtime
from croupier.api.compliance import workflow_calls
from croupier.api.compliance.models import (
    ExclusionRequest,
    ExclusionResponse,
    LimitChangeResponse,
    LimitsRequest,
    LimitsResponse,
    LimitsUpdateResponse,
)
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.compliance import exclusions, limit_changes, limits
from croupier.compliance.errors import InvalidLimit
from croupier.compliance.limit_changes import ChangeStatus, LimitChange
from croupier.compliance.limits import ExclusionKind
from croupier.identity.access_tokens import AccessClaims

router = APIRouter(tags=["responsible gambling"])
State = Annotated[AppState, Depends(app_state)]


@router.get("/limits", response_model=LimitsResponse, responses=problem_responses(401, 403))
def read_limits(claims: Claims, state: State) -> LimitsResponse:
    """Your limits in force, the loosenings still waiting out their delay, and any
    exclusion's end."""
    return _overview(state, claims.user_id)


@router.put(
    "/limits", response_model=LimitsUpdateResponse, responses=problem_responses(401, 403, 422)
)
async def change_limits(
    body: LimitsRequest, claims: Claims, state: State, request: Request
) -> LimitsUpdateResponse:
    """Set, lower, raise or remove limits. Lowering is immediate; raising or removing
    takes effect 24 hours later (``status: pending``, ``effective_at``)."""
    keys = [setting.key() for setting in body.changes]
    if len(set(keys)) != len(keys):
        raise InvalidLimit("name each limit at most once per request")
    clock = auth_runtime(request).clock
    delay = timedelta(seconds=state.settings.rg_limit_increase_delay_s)
    changes: list[LimitChange] = []
    for key, setting in zip(keys, body.changes, strict=True):
        change = await run_in_threadpool(
            functools.partial(
                limit_changes.request_limit_change,
                state.engine,
                claims.user_id,
                key,
                None if setting.value is None else int(setting.value),
                now=clock.now(),
                increase_delay=delay,
            )
        )
        if change.status is ChangeStatus.PENDING:
            await workflow_calls.start_limit_change(state.temporal, state.settings, change)
        changes.append(change)
    overview = await run_in_threadpool(_overview, state, claims.user_id)
    return LimitsUpdateResponse(
        **overview.model_dump(), changes=[LimitChangeResponse.of(c) for c in changes]
    )


@router.post(
    "/self-exclusion",
    status_code=status.HTTP_201_CREATED,
    response_model=ExclusionResponse,
    responses=problem_responses(401, 403, 409, 422),
)
def self_exclude(
    body: ExclusionRequest, claims: Claims, state: State, request: Request
) -> ExclusionResponse:
    """Block your own betting and deposits for 180 days to 5 years. It cannot be lifted
    early, by you or by staff; withdrawals stay open."""
    return _exclude(state, request, claims, ExclusionKind.SELF_EXCLUSION, body.days)


@router.post(
    "/cool-off",
    status_code=status.HTTP_201_CREATED,
    response_model=ExclusionResponse,
    responses=problem_responses(401, 403, 409, 422),
)
def cool_off(
    body: ExclusionRequest, claims: Claims, state: State, request: Request
) -> ExclusionResponse:
    """Take a break of 1 to 42 days from betting and deposits; withdrawals stay open."""
    return _exclude(state, request, claims, ExclusionKind.COOL_OFF, body.days)


def _exclude(
    state: AppState, request: Request, claims: AccessClaims, kind: ExclusionKind, days: int
) -> ExclusionResponse:
    exclusion = exclusions.exclude(
        state.engine, claims.user_id, kind, days, now=auth_runtime(request).clock.now()
    )
    return ExclusionResponse.of(exclusion)


def _overview(state: AppState, user_id: uuid.UUID) -> LimitsResponse:
    with state.engine.connect() as conn:
        return LimitsResponse.of(
            limits.limits_in_force(conn, user_id),
            limit_changes.pending_changes(conn, user_id),
            limits.gambling_restrictions(conn, user_id),
        )
