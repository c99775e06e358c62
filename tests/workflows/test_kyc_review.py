"""KYC review on the time-skipping server: automatic approval, the compliance desk's
three decisions, the request-for-information round trip, reminders and expiry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from croupier.activities.compliance import DecisionOutcome
from croupier.compliance.levels import kyc_level
from croupier.compliance.reviews import Intake, ReviewStatus, review_status
from croupier.compliance.tables import kyc_reviews
from croupier.identity.roles import Role
from croupier.workflows.kyc_review import (
    KycDecisionRequest,
    KycResubmission,
    KycReviewInput,
    KycReviewResult,
    KycReviewWorkflow,
    Phase,
    workflow_id,
)
from tests.integration.compliance.people import (
    claim,
    make_user,
    sanctioned_claim,
    submit,
)
from tests.workflows.conftest import Recorder

REMINDER_INTERVAL = timedelta(hours=24)
INFO_EXPIRY = timedelta(days=14)
ReviewHandle = WorkflowHandle[KycReviewWorkflow, KycReviewResult]


async def start(env: WorkflowEnvironment, queue: str, intake: Intake) -> ReviewHandle:
    return await env.client.start_workflow(
        KycReviewWorkflow.run,
        KycReviewInput(
            review_id=str(intake.review_id),
            user_id=str(intake.user_id),
            submission_id=str(intake.submission_id),
            requested_level=intake.requested_level,
            reminder_interval_s=int(REMINDER_INTERVAL.total_seconds()),
            info_expiry_s=int(INFO_EXPIRY.total_seconds()),
        ),
        id=workflow_id(str(intake.review_id)),
        task_queue=queue,
    )


async def reach(handle: ReviewHandle, phase: Phase) -> None:
    """Wait (at most 10 s of real time) until the workflow says it is in ``phase``."""
    for _ in range(200):
        if (await handle.query(KycReviewWorkflow.state)).phase == phase.value:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the review never reached {phase.value}")


def decision(staff_id: uuid.UUID, kind: str, reason: str, **fields: object) -> KycDecisionRequest:
    return KycDecisionRequest(
        decision_id=str(uuid.uuid4()),
        kind=kind,
        staff_id=str(staff_id),
        staff_role=str(fields.pop("staff_role", Role.COMPLIANCE.value)),
        reason=reason,
        level=fields.pop("level", None),  # type: ignore[arg-type]
    )


async def decide(handle: ReviewHandle, request: KycDecisionRequest) -> DecisionOutcome:
    return await handle.execute_update(KycReviewWorkflow.decide, request, id=request.decision_id)


async def flagged_review(
    env: WorkflowEnvironment, queue: str, engine: Engine
) -> tuple[ReviewHandle, Intake]:
    """A review the sanctions check sent to compliance staff."""
    player = make_user(engine)
    intake = submit(engine, player, sanctioned_claim())
    handle = await start(env, queue, intake)
    await reach(handle, Phase.AWAITING_REVIEW)
    return handle, intake


def refusal_type(error: WorkflowUpdateFailedError) -> str | None:
    assert isinstance(error.cause, ApplicationError)
    return error.cause.type


def audit_actions(engine: Engine, review_id: uuid.UUID) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT actor, action FROM audit_log WHERE subject = :s ORDER BY seq"),
            {"s": f"kyc_review:{review_id}"},
        ).all()
    return [(row.actor, row.action) for row in rows]


async def test_a_clean_basic_submission_is_approved_to_level_1_automatically(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    player = make_user(engine)
    intake = submit(engine, player, claim())

    handle = await start(time_skipping_env, time_skipping_worker, intake)
    result = await handle.result()

    assert (result.status, result.level) == ("approved", 1)
    assert kyc_level(engine, player) == 1
    assert audit_actions(engine, intake.review_id) == [("system:kyc-auto", "kyc.approve")]
    await record_history(handle, "auto-approved")


async def test_a_clean_submission_for_a_higher_level_waits_for_compliance(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, engine: Engine
) -> None:
    player = make_user(engine)
    officer = make_user(engine, Role.COMPLIANCE)
    intake = submit(engine, player, claim(), requested_level=2)
    handle = await start(time_skipping_env, time_skipping_worker, intake)

    await reach(handle, Phase.AWAITING_REVIEW)
    state = await handle.query(KycReviewWorkflow.state)
    outcome = await decide(handle, decision(officer, "approve", "documents in order", level=2))

    assert state.flags == []
    assert (outcome.status, outcome.level) == ("approved", 2)
    assert (await handle.result()).level == 2
    assert kyc_level(engine, player) == 2


async def test_a_flagged_submission_is_approved_by_compliance_with_an_audit_row(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    officer = make_user(engine, Role.COMPLIANCE)
    handle, intake = await flagged_review(time_skipping_env, time_skipping_worker, engine)
    state = await handle.query(KycReviewWorkflow.state)

    outcome = await decide(
        handle, decision(officer, "approve", "namesake; different person", level=1)
    )

    assert "sanctions_match" in state.flags
    assert (outcome.status, outcome.level) == ("approved", 1)
    assert (await handle.result()).status == "approved"
    assert kyc_level(engine, intake.user_id) == 1
    assert audit_actions(engine, intake.review_id) == [(str(officer), "kyc.approve")]
    await record_history(handle, "manually-approved")


async def test_a_rejection_closes_the_review_without_a_level(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    officer = make_user(engine, Role.COMPLIANCE)
    handle, intake = await flagged_review(time_skipping_env, time_skipping_worker, engine)

    outcome = await decide(handle, decision(officer, "reject", "confirmed sanctions match"))

    assert (outcome.status, outcome.level) == ("rejected", 0)
    assert (await handle.result()).status == "rejected"
    assert kyc_level(engine, intake.user_id) == 0
    assert audit_actions(engine, intake.review_id) == [(str(officer), "kyc.reject")]
    await record_history(handle, "rejected")


async def test_a_request_for_information_is_answered_by_a_new_submission(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    officer = make_user(engine, Role.COMPLIANCE)
    handle, intake = await flagged_review(time_skipping_env, time_skipping_worker, engine)

    asked = await decide(handle, decision(officer, "request_info", "send a second document"))
    await reach(handle, Phase.AWAITING_INFORMATION)
    answer = submit(engine, intake.user_id, sanctioned_claim())
    await handle.execute_update(
        KycReviewWorkflow.resubmit, KycResubmission(str(answer.submission_id))
    )
    await reach(handle, Phase.AWAITING_REVIEW)
    approved = await decide(handle, decision(officer, "approve", "second document fine", level=1))

    assert asked.status == "info_requested"
    assert answer.review_id == intake.review_id and not answer.opens_review
    assert approved.status == "approved"
    assert (await handle.result()).level == 1
    assert audit_actions(engine, intake.review_id) == [
        (str(officer), "kyc.request_info"),
        (str(officer), "kyc.approve"),
    ]
    await record_history(handle, "information-round-trip")


async def test_reviewers_are_reminded_every_interval_while_nobody_decides(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, engine: Engine
) -> None:
    officer = make_user(engine, Role.COMPLIANCE)
    handle, intake = await flagged_review(time_skipping_env, time_skipping_worker, engine)

    await time_skipping_env.sleep(REMINDER_INTERVAL * 3 + timedelta(hours=1))
    state = await handle.query(KycReviewWorkflow.state)
    await decide(handle, decision(officer, "reject", "closing the test"))
    await handle.result()

    assert state.reminders_sent == 3
    with engine.connect() as conn:
        stored = conn.execute(
            select(kyc_reviews.c.reminders_sent).where(kyc_reviews.c.id == intake.review_id)
        ).scalar_one()
    assert stored == 3


async def test_an_unanswered_request_for_information_expires(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    record_history: Recorder,
) -> None:
    officer = make_user(engine, Role.COMPLIANCE)
    handle, intake = await flagged_review(time_skipping_env, time_skipping_worker, engine)
    await decide(handle, decision(officer, "request_info", "send proof of address"))

    result = await handle.result()  # time skips past the expiry

    assert (result.status, result.level) == ("expired", 0)
    with engine.connect() as conn:
        assert review_status(conn, intake.review_id) is ReviewStatus.EXPIRED
    await record_history(handle, "expired")


@pytest.mark.parametrize(
    ("staff_role", "kind", "reason", "level", "refused_as"),
    [
        ("support", "approve", "looks fine", 1, "reviewer_not_authorised"),
        ("admin", "reject", "looks bad", None, "reviewer_not_authorised"),
        ("compliance", "approve", "   ", 1, "invalid_kyc_decision"),
        ("compliance", "approve", "no level", None, "invalid_kyc_decision"),
        ("compliance", "approve", "too high", 4, "invalid_kyc_decision"),
        ("compliance", "reject", "with a level", 2, "invalid_kyc_decision"),
    ],
)
async def test_the_validator_refuses_decisions_no_officer_could_make(
    time_skipping_env: WorkflowEnvironment,
    time_skipping_worker: str,
    engine: Engine,
    staff_role: str,
    kind: str,
    reason: str,
    level: int | None,
    refused_as: str,
) -> None:
    officer = make_user(engine, Role.COMPLIANCE)
    handle, intake = await flagged_review(time_skipping_env, time_skipping_worker, engine)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, decision(officer, kind, reason, staff_role=staff_role, level=level))

    assert refusal_type(refused.value) == refused_as
    assert (await handle.query(KycReviewWorkflow.state)).phase == Phase.AWAITING_REVIEW.value
    assert audit_actions(engine, intake.review_id) == []
    await decide(handle, decision(officer, "reject", "closing the test"))


async def test_a_role_claim_the_database_does_not_back_is_refused_and_the_review_waits(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, engine: Engine
) -> None:
    impostor = make_user(engine, Role.SUPPORT)
    officer = make_user(engine, Role.COMPLIANCE)
    handle, intake = await flagged_review(time_skipping_env, time_skipping_worker, engine)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, decision(impostor, "approve", "trust me", level=3))
    approved = await decide(handle, decision(officer, "approve", "checked", level=1))

    assert refusal_type(refused.value) == "reviewer_not_authorised"
    assert approved.level == 1
    assert kyc_level(engine, intake.user_id) == 1
    assert audit_actions(engine, intake.review_id) == [(str(officer), "kyc.approve")]


async def test_updates_out_of_turn_are_refused_before_they_enter_history(
    time_skipping_env: WorkflowEnvironment, time_skipping_worker: str, engine: Engine
) -> None:
    officer = make_user(engine, Role.COMPLIANCE)
    handle, _ = await flagged_review(time_skipping_env, time_skipping_worker, engine)

    with pytest.raises(WorkflowUpdateFailedError) as unasked:
        await handle.execute_update(KycReviewWorkflow.resubmit, KycResubmission(str(uuid.uuid4())))
    await decide(handle, decision(officer, "request_info", "more please"))
    with pytest.raises(WorkflowUpdateFailedError) as second:
        await decide(handle, decision(officer, "approve", "changed my mind", level=1))

    assert refusal_type(unasked.value) == "kyc_review_not_awaiting_information"
    assert refusal_type(second.value) == "kyc_review_not_awaiting_decision"
    history = await handle.fetch_history()
    accepted = [
        event
        for event in history.events
        if event.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 1
    await handle.terminate("end of test")
