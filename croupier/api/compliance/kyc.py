"""``/kyc``: a player submits identity documents and follows their KYC review.

``POST /kyc`` is multipart: the identity fields as form fields and one or more files
named ``documents`` (PDF, JPEG or PNG, checked by their magic bytes). Documents are
validated in full before any is stored, stored before the submission row that names
them, and the submission is withdrawn again if its workflow cannot take it: nothing
is left half-done. The whole request body is capped (``uploads.UploadSizeLimit``, in
front of the app), so an oversized upload is refused while it streams in.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from croupier.api.auth.models import problem_responses
from croupier.api.auth.runtime import auth_runtime, rate_limiter
from croupier.api.compliance import workflow_calls
from croupier.api.compliance.models import KycForm, KycStatusResponse, KycSubmissionResponse
from croupier.api.ratelimit import RateLimiter, RateRule
from croupier.api.rbac import Claims
from croupier.api.state import AppState, app_state
from croupier.compliance import reviews
from croupier.compliance.documents import Document, DocumentStore, validate_document
from croupier.compliance.errors import InvalidKycSubmission
from croupier.core.settings import Settings

router = APIRouter(tags=["kyc"])
State = Annotated[AppState, Depends(app_state)]
# Room for the identity fields and multipart framing next to the documents.
FORM_OVERHEAD_BYTES = 64 * 1024
# Each submission stores files and may open a review: a bound per player and day.
SUBMISSIONS_PER_PLAYER = RateRule("kyc-submit", 10, timedelta(days=1), "KYC submissions")


def upload_body_limit(settings: Settings) -> int:
    return settings.kyc_max_documents * settings.kyc_max_upload_bytes + FORM_OVERHEAD_BYTES


def upload_dir(settings: Settings) -> Path:
    return settings.kyc_upload_dir or settings.data_dir / "kyc-documents"


@router.post(
    "/kyc",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=KycSubmissionResponse,
    responses=problem_responses(400, 401, 403, 409, 422, 429),
)
async def submit_kyc(
    form: Annotated[KycForm, Form()],
    documents: Annotated[
        list[UploadFile], File(description="scans or photos of the identity document")
    ],
    claims: Claims,
    state: State,
    limiter: Annotated[RateLimiter, Depends(rate_limiter)],
    request: Request,
) -> KycSubmissionResponse:
    """Submit identity details and documents for review.

    Starts a KYC review, or answers the open one when compliance asked for more
    information. A clean submission for level 1 is approved within seconds; anything
    else waits for compliance staff. Follow it with ``GET /kyc``.
    """
    await run_in_threadpool(limiter.hit, SUBMISSIONS_PER_PLAYER, str(claims.user_id))
    claim = form.claim()
    validated = [
        await _read_document(upload, state.settings, label=f"document {position + 1}")
        for position, upload in enumerate(_bounded(documents, state.settings))
    ]
    await run_in_threadpool(
        reviews.check_can_submit, state.engine, claims.user_id, form.requested_level
    )
    store = DocumentStore(upload_dir(state.settings))
    stored = await run_in_threadpool(lambda: [(doc, store.save(doc)) for doc in validated])
    intake = await run_in_threadpool(
        lambda: reviews.take_submission(
            state.engine,
            user_id=claims.user_id,
            claim=claim,
            requested_level=form.requested_level,
            documents=stored,
            now=auth_runtime(request).clock.now(),
        )
    )
    try:
        if intake.opens_review:
            await workflow_calls.start_review(state.temporal, state.settings, intake)
        else:
            await workflow_calls.resubmit(state.temporal, intake)
    except BaseException:
        await run_in_threadpool(reviews.withdraw_submission, state.engine, intake)
        raise
    return KycSubmissionResponse(review_id=intake.review_id, submission_id=intake.submission_id)


@router.get("/kyc", response_model=KycStatusResponse, responses=problem_responses(401, 403))
def kyc_status(claims: Claims, state: State) -> KycStatusResponse:
    """Your KYC level and your latest review (with what compliance asked for, if anything)."""
    with state.engine.connect() as conn:
        return KycStatusResponse.of(reviews.player_kyc(conn, claims.user_id))


def _bounded(documents: list[UploadFile], settings: Settings) -> list[UploadFile]:
    if not 1 <= len(documents) <= settings.kyc_max_documents:
        raise InvalidKycSubmission(f"send 1 to {settings.kyc_max_documents} documents")
    return documents


async def _read_document(upload: UploadFile, settings: Settings, *, label: str) -> Document:
    # One byte past the limit is enough to know it is too large.
    content = await upload.read(settings.kyc_max_upload_bytes + 1)
    return validate_document(
        content,
        upload.content_type,
        allowed_types=settings.kyc_allowed_content_types,
        max_bytes=settings.kyc_max_upload_bytes,
        label=label,
    )
