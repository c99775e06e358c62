"""KYC review: automated checks, then compliance staff decide; one workflow per review.

1. The automated checks run on the submission (age, name and dates, sanctions list,
   the same identity on another account). A clean submission asking for the basic
   level is approved at once, by the system.
2. Anything else waits for a compliance officer's decision, sent as the ``decide``
   update: approve (with a level), reject, or request more information, each with
   the officer's id and a reason. While nobody decides, a reminder fires every
   ``reminder_interval_s``.
3. A request for information waits for the player's answer, a new submission sent as
   the ``resubmit`` update; it is checked and goes back to staff. Unanswered for
   ``info_expiry_s``, the review expires.

Decisions are updates, not signals, so the API hears at once whether one was taken:
the validator refuses what no officer could decide (the wrong role, no reason, a level
that is not higher, a review not waiting for a decision) before it enters history, and
the handler returns only after the decision is stored with its audit row. The activity
checks the officer's role in the database once more, so a stale or forged role claim
fails there too.

Workflow id: ``kyc-review-<review id>``.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from croupier.activities.compliance import (
        ComplianceActivities,
        DecisionInput,
        DecisionOutcome,
        ReminderInput,
        ReviewRef,
        SubmissionRef,
    )
    from croupier.compliance.errors import (
        KycReviewNotAwaitingDecision,
        KycReviewNotAwaitingInformation,
    )
    from croupier.compliance.kyc import (
        CheckFlag,
        DecisionKind,
        KycDecision,
        auto_approvable,
        check_decision,
    )
    from croupier.core.ids import business_key
    from croupier.workflows import search_attributes as attributes
    from croupier.workflows.refusals import refusals, unwrap_activity_error

FLOW = "kyc-review"
# Reminders stop after this many (weeks of daily reminders); the review keeps waiting
# and stays first in the staff queue, which is ordered by age.
MAX_REMINDERS = 60
_STEP_TIMEOUT = timedelta(seconds=30)
# Database steps retry until the database is back: a review can wait, it must not fail.
_STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


def workflow_id(review_id: str) -> str:
    return business_key("kyc-review", review_id)


class Phase(StrEnum):
    CHECKING = "checking"
    AWAITING_REVIEW = "awaiting_review"
    AWAITING_INFORMATION = "awaiting_information"
    CLOSED = "closed"


@dataclass(frozen=True)
class KycReviewInput:
    review_id: str
    user_id: str
    submission_id: str
    requested_level: int
    reminder_interval_s: int
    info_expiry_s: int


@dataclass(frozen=True)
class KycReviewResult:
    review_id: str
    # approved | rejected | expired
    status: str
    level: int


@dataclass(frozen=True)
class KycDecisionRequest:
    decision_id: str
    kind: str
    staff_id: str
    staff_role: str
    reason: str
    level: int | None = None


@dataclass(frozen=True)
class KycResubmission:
    submission_id: str


@dataclass(frozen=True)
class KycReviewState:
    phase: str
    flags: list[str]
    current_level: int
    reminders_sent: int


@workflow.defn(name="KycReview")
class KycReviewWorkflow:
    def __init__(self) -> None:
        self._phase = Phase.CHECKING
        self._review_id = ""
        self._flags: tuple[CheckFlag, ...] = ()
        self._current_level = 0
        self._reminders = 0
        self._decision: KycDecisionRequest | None = None
        self._outcomes: dict[str, DecisionOutcome | ApplicationError] = {}
        self._resubmission: str | None = None

    @workflow.run
    async def run(self, request: KycReviewInput) -> KycReviewResult:
        self._review_id = request.review_id
        workflow.upsert_search_attributes(
            [attributes.PLAYER_ID.value_set(request.user_id), attributes.FLOW.value_set(FLOW)]
        )
        await self._check(request.submission_id)
        if auto_approvable(self._flags, request.requested_level):
            level = await workflow.execute_activity_method(
                ComplianceActivities.approve_kyc_automatically,
                ReviewRef(request.review_id),
                start_to_close_timeout=_STEP_TIMEOUT,
                retry_policy=_STEP_RETRY,
            )
            return await self._close("approved", level)
        while True:
            outcome = await self._review(request)
            if outcome.status != "info_requested":
                return await self._close(outcome.status, outcome.level)
            submission_id = await self._wait_for_information(request)
            if submission_id is None:
                await workflow.execute_activity_method(
                    ComplianceActivities.expire_kyc_review,
                    ReviewRef(request.review_id),
                    start_to_close_timeout=_STEP_TIMEOUT,
                    retry_policy=_STEP_RETRY,
                )
                return await self._close("expired", self._current_level)
            await self._check(submission_id)

    # --- the decision update ------------------------------------------------------

    @workflow.update
    async def decide(self, request: KycDecisionRequest) -> DecisionOutcome:
        """Apply a compliance decision; answers once it is stored (or refused)."""
        with refusals():
            self._check_decidable(request)
        self._decision = request
        await workflow.wait_condition(lambda: request.decision_id in self._outcomes)
        outcome = self._outcomes[request.decision_id]
        if isinstance(outcome, ApplicationError):
            raise outcome
        return outcome

    @decide.validator
    def _validate_decide(self, request: KycDecisionRequest) -> None:
        with refusals():
            self._check_decidable(request)

    def _check_decidable(self, request: KycDecisionRequest) -> None:
        if self._phase is not Phase.AWAITING_REVIEW or self._decision is not None:
            raise KycReviewNotAwaitingDecision(
                f"KYC review {self._review_id} is {self._phase.value}, not awaiting a decision"
            )
        check_decision(self._domain_decision(request), current_level=self._current_level)

    def _domain_decision(self, request: KycDecisionRequest) -> KycDecision:
        return KycDecision(
            decision_id=uuid.UUID(request.decision_id),
            review_id=uuid.UUID(self._review_id),
            kind=DecisionKind(request.kind),
            staff_id=uuid.UUID(request.staff_id),
            staff_role=request.staff_role,
            reason=request.reason,
            level=request.level,
        )

    # --- the player's answer update -----------------------------------------------

    @workflow.update
    def resubmit(self, request: KycResubmission) -> str:
        """Hand over the player's new submission; the review goes back to checks."""
        with refusals():
            self._check_resubmittable()
        self._resubmission = request.submission_id
        return Phase.CHECKING.value

    @resubmit.validator
    def _validate_resubmit(self, request: KycResubmission) -> None:
        with refusals():
            self._check_resubmittable()

    def _check_resubmittable(self) -> None:
        if self._phase is not Phase.AWAITING_INFORMATION or self._resubmission is not None:
            raise KycReviewNotAwaitingInformation(
                f"KYC review {self._review_id} is {self._phase.value}, not waiting for "
                "more information from you"
            )

    @workflow.query
    def state(self) -> KycReviewState:
        return KycReviewState(
            phase=self._phase.value,
            flags=[flag.value for flag in self._flags],
            current_level=self._current_level,
            reminders_sent=self._reminders,
        )

    # --- steps --------------------------------------------------------------------

    async def _check(self, submission_id: str) -> None:
        self._enter(Phase.CHECKING, "running automated checks")
        summary = await workflow.execute_activity_method(
            ComplianceActivities.run_kyc_checks,
            SubmissionRef(self._review_id, submission_id),
            start_to_close_timeout=_STEP_TIMEOUT,
            retry_policy=_STEP_RETRY,
        )
        self._flags = tuple(CheckFlag(flag) for flag in summary.flags)
        self._current_level = summary.current_level

    async def _review(self, request: KycReviewInput) -> DecisionOutcome:
        """Wait for decisions until one is applied; a refused one leaves the review waiting."""
        await workflow.execute_activity_method(
            ComplianceActivities.await_kyc_review,
            ReviewRef(request.review_id),
            start_to_close_timeout=_STEP_TIMEOUT,
            retry_policy=_STEP_RETRY,
        )
        flags = ", ".join(flag.value for flag in self._flags) or "none"
        while True:
            self._decision = None
            self._enter(Phase.AWAITING_REVIEW, f"waiting for compliance; flags: {flags}")
            decision = await self._wait_for_decision(request)
            try:
                outcome = await workflow.execute_activity_method(
                    ComplianceActivities.apply_kyc_decision,
                    self._decision_input(decision),
                    start_to_close_timeout=_STEP_TIMEOUT,
                    retry_policy=_STEP_RETRY,
                )
            except ActivityError as error:
                refused = unwrap_activity_error(error)
                if not isinstance(refused, ApplicationError):
                    raise
                self._outcomes[decision.decision_id] = refused
                continue
            self._outcomes[decision.decision_id] = outcome
            return outcome

    async def _wait_for_decision(self, request: KycReviewInput) -> KycDecisionRequest:
        interval = timedelta(seconds=request.reminder_interval_s)
        while self._decision is None:
            timeout = interval if self._reminders < MAX_REMINDERS else None
            try:
                await workflow.wait_condition(lambda: self._decision is not None, timeout=timeout)
            except TimeoutError:
                self._reminders += 1
                await workflow.execute_activity_method(
                    ComplianceActivities.remind_kyc_reviewers,
                    ReminderInput(request.review_id, request.user_id, self._reminders),
                    start_to_close_timeout=_STEP_TIMEOUT,
                    retry_policy=_STEP_RETRY,
                )
        return self._decision

    async def _wait_for_information(self, request: KycReviewInput) -> str | None:
        """The player's new submission, or None once the request for information expired."""
        self._resubmission = None
        self._enter(Phase.AWAITING_INFORMATION, "waiting for the player's new submission")
        # On expiry an answer accepted in the same instant still counts: hence the return.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._resubmission is not None,
                timeout=timedelta(seconds=request.info_expiry_s),
            )
        return self._resubmission

    def _decision_input(self, decision: KycDecisionRequest) -> DecisionInput:
        return DecisionInput(
            decision_id=decision.decision_id,
            review_id=self._review_id,
            kind=decision.kind,
            staff_id=decision.staff_id,
            staff_role=decision.staff_role,
            reason=decision.reason,
            level=decision.level,
        )

    def _enter(self, phase: Phase, details: str) -> None:
        self._phase = phase
        workflow.upsert_search_attributes([attributes.STATUS.value_set(phase.value)])
        workflow.set_current_details(f"{phase.value}: {details}")

    async def _close(self, status: str, level: int) -> KycReviewResult:
        self._phase = Phase.CLOSED
        workflow.upsert_search_attributes([attributes.STATUS.value_set(status)])
        workflow.set_current_details(f"closed: {status}, level {level}")
        # The decide handler that closed the review answers the API before the run ends.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return KycReviewResult(review_id=self._review_id, status=status, level=level)
