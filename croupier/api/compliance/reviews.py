"""``/admin/kyc``: the compliance desk. Read the queue and a review, then decide it.

Only compliance staff reach these routes (``croupier.api.rbac``). A decision is an
update to the review's workflow carrying the officer's id, role and reason; the
workflow refuses what no officer could decide, stores the decision with its audit row,
and only then answers, so a 200 here means the decision is in force.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from croupier.api.auth.models import problem_responses
from croupier.api.compliance import workflow_calls
from croupier.api.compliance.models import (
    ApproveRequest,
    DecisionResponse,
    ReasonRequest,
    ReviewDetailResponse,
    ReviewQueueItem,
)
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.compliance import reviews
from croupier.compliance.errors import KycReviewClosed
from croupier.compliance.kyc import DecisionKind
from croupier.compliance.reviews import FINAL_STATUSES, ReviewStatus
from croupier.identity.access_tokens import AccessClaims
from croupier.workflows.kyc_review import KycDecisionRequest

router = APIRouter(tags=["compliance"])
State = Annotated[AppState, Depends(app_state)]


@router.get(
    "/admin/kyc", response_model=list[ReviewQueueItem], responses=problem_responses(401, 403)
)
def review_queue(
    state: State,
    review_status: Annotated[ReviewStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=reviews.MAX_OPEN_REVIEWS_PAGE)] = 50,
) -> list[ReviewQueueItem]:
    """Open reviews, oldest first; ``status=awaiting_review`` for the ones to decide."""
    with state.engine.connect() as conn:
        queue = reviews.open_reviews(conn, status=review_status, limit=limit)
    return [ReviewQueueItem.of(review) for review in queue]


@router.get(
    "/admin/kyc/{review_id}",
    response_model=ReviewDetailResponse,
    responses=problem_responses(401, 403, 404),
)
def review(review_id: uuid.UUID, state: State) -> ReviewDetailResponse:
    """A review with every submission, what the automated checks flagged, and documents."""
    with state.engine.connect() as conn:
        return ReviewDetailResponse.of(reviews.review_detail(conn, review_id))


@router.post(
    "/admin/kyc/{review_id}/approve",
    response_model=DecisionResponse,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def approve(
    review_id: uuid.UUID, body: ApproveRequest, claims: Claims, state: State
) -> DecisionResponse:
    """Grant the player a KYC level (higher than the one they hold)."""
    return await _decide(state, claims, review_id, DecisionKind.APPROVE, body.reason, body.level)


@router.post(
    "/admin/kyc/{review_id}/reject",
    response_model=DecisionResponse,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def reject(
    review_id: uuid.UUID, body: ReasonRequest, claims: Claims, state: State
) -> DecisionResponse:
    """Close the review without granting a level."""
    return await _decide(state, claims, review_id, DecisionKind.REJECT, body.reason, None)


@router.post(
    "/admin/kyc/{review_id}/request-info",
    response_model=DecisionResponse,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def request_info(
    review_id: uuid.UUID, body: ReasonRequest, claims: Claims, state: State
) -> DecisionResponse:
    """Ask the player for more (``reason`` is shown to them); they answer with a new
    ``POST /kyc``, which returns the review to this desk."""
    return await _decide(state, claims, review_id, DecisionKind.REQUEST_INFO, body.reason, None)


async def _decide(
    state: AppState,
    claims: AccessClaims,
    review_id: uuid.UUID,
    kind: DecisionKind,
    reason: str,
    level: int | None,
) -> DecisionResponse:
    current = await run_in_threadpool(_status, state, review_id)
    if current in FINAL_STATUSES:
        raise KycReviewClosed(f"KYC review {review_id} has already ended ({current.value})")
    request = KycDecisionRequest(
        decision_id=str(uuid.uuid4()),
        kind=kind.value,
        staff_id=str(claims.user_id),
        staff_role=claims.role.value,
        reason=reason,
        level=level,
    )
    status, granted = await workflow_calls.decide(state.temporal, str(review_id), request)
    return DecisionResponse(review_id=review_id, status=status, level=granted)


def _status(state: AppState, review_id: uuid.UUID) -> ReviewStatus:
    with state.engine.connect() as conn:
        return reviews.review_status(conn, review_id)
