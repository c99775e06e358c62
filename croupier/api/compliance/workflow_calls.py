"""Starting and updating the compliance workflows from the API, with Temporal's failures
turned into the typed errors the API answers with (a 4xx for a refusal, never a 500)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from croupier.compliance.errors import KycReviewClosed
from croupier.compliance.limit_changes import LimitChange
from croupier.compliance.reviews import Intake
from croupier.core.errors import Conflict, CroupierError, ServiceUnavailable
from croupier.core.settings import Settings
from croupier.workflows import kyc_review, limit_change
from croupier.workflows.kyc_review import (
    KycDecisionRequest,
    KycResubmission,
    KycReviewInput,
    KycReviewWorkflow,
)
from croupier.workflows.limit_change import LimitChangeInput, LimitChangeWorkflow
from croupier.workflows.refusals import typed_error

T = TypeVar("T")


async def start_review(client: Client, settings: Settings, intake: Intake) -> None:
    """Start the review's workflow; starting it again (a retry) is harmless."""
    await _call(
        client.start_workflow(
            KycReviewWorkflow.run,
            KycReviewInput(
                review_id=str(intake.review_id),
                user_id=str(intake.user_id),
                submission_id=str(intake.submission_id),
                requested_level=intake.requested_level,
                reminder_interval_s=settings.kyc_review_reminder_s,
                info_expiry_s=settings.kyc_info_request_expiry_s,
            ),
            id=kyc_review.workflow_id(str(intake.review_id)),
            task_queue=settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"KYC review of player {intake.user_id} for level "
            f"{intake.requested_level}",
        )
    )


async def resubmit(client: Client, intake: Intake) -> None:
    handle = client.get_workflow_handle(kyc_review.workflow_id(str(intake.review_id)))
    await _call(
        handle.execute_update(
            KycReviewWorkflow.resubmit,
            KycResubmission(str(intake.submission_id)),
            id=f"resubmit-{intake.submission_id}",
        ),
        gone=KycReviewClosed("your KYC review has already ended; submit again for a new one"),
    )


async def decide(client: Client, review_id: str, request: KycDecisionRequest) -> tuple[str, int]:
    """Send a decision; (status, level) once it is stored, or the typed refusal."""
    handle = client.get_workflow_handle(kyc_review.workflow_id(review_id))
    outcome = await _call(
        handle.execute_update(KycReviewWorkflow.decide, request, id=request.decision_id),
        gone=KycReviewClosed(f"KYC review {review_id} has already ended"),
    )
    return outcome.status, outcome.level


async def start_limit_change(client: Client, settings: Settings, change: LimitChange) -> None:
    await _call(
        client.start_workflow(
            LimitChangeWorkflow.run,
            LimitChangeInput(
                change_id=str(change.id),
                user_id=str(change.user_id),
                limit_key=change.key.render(),
                effective_at=change.effective_at,
            ),
            id=limit_change.workflow_id(str(change.id)),
            task_queue=settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"{change.key.render()} of player {change.user_id} loosens at "
            f"{change.effective_at.isoformat()}",
        )
    )


async def _call(call: Awaitable[T], *, gone: CroupierError | None = None) -> T:
    """Await a start or update; ``gone`` is the error when the workflow no longer runs."""
    try:
        return await call
    except WorkflowUpdateFailedError as error:
        refusal = typed_error(error)
        if refusal is None:
            raise
        raise refusal from None
    except WorkflowAlreadyStartedError:
        raise Conflict("this workflow already ran to its end") from None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND and gone is not None:
            raise gone from None
        raise ServiceUnavailable(f"Temporal did not take the request: {error.message}") from None
