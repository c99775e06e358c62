"""Compliance activities: thin adapters from the KYC review and limit-change workflows to
``croupier.compliance``.

Payloads carry ids only (strings): a player's identity data stays in PostgreSQL and
never enters Temporal history. Each step is one transaction and idempotent by the
review, submission, decision or change id it names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.compliance import limit_changes, reviews
from croupier.compliance.kyc import DecisionKind, KycDecision
from croupier.compliance.sanctions import SanctionsList
from croupier.core.clock import Clock

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SubmissionRef:
    review_id: str
    submission_id: str


@dataclass(frozen=True)
class CheckSummary:
    flags: list[str]
    current_level: int


@dataclass(frozen=True)
class ReviewRef:
    review_id: str


@dataclass(frozen=True)
class ReminderInput:
    review_id: str
    user_id: str
    reminder: int


@dataclass(frozen=True)
class DecisionInput:
    decision_id: str
    review_id: str
    kind: str
    staff_id: str
    staff_role: str
    reason: str
    level: int | None


@dataclass(frozen=True)
class DecisionOutcome:
    review_id: str
    status: str
    level: int


@dataclass(frozen=True)
class LimitChangeRef:
    change_id: str
    # The workflow's time when its delay ran out: the clock the delay was measured on.
    applied_at: datetime


class ComplianceActivities:
    """Bound to the worker's engine, clock and sanctions list (loaded once at start)."""

    def __init__(self, engine: Engine, clock: Clock, sanctions: SanctionsList) -> None:
        self._engine = engine
        self._clock = clock
        self._sanctions = sanctions

    @activity.defn(name="compliance.run_kyc_checks")
    @maps_business_failures
    def run_kyc_checks(self, ref: SubmissionRef) -> CheckSummary:
        result = reviews.run_checks(
            self._engine,
            uuid.UUID(ref.submission_id),
            sanctions=self._sanctions,
            now=self._clock.now(),
        )
        return CheckSummary([flag.value for flag in result.flags], result.current_level)

    @activity.defn(name="compliance.await_kyc_review")
    @maps_business_failures
    def await_kyc_review(self, ref: ReviewRef) -> None:
        reviews.await_review(self._engine, uuid.UUID(ref.review_id), now=self._clock.now())

    @activity.defn(name="compliance.approve_kyc_automatically")
    @maps_business_failures
    def approve_kyc_automatically(self, ref: ReviewRef) -> int:
        return reviews.approve_automatically(
            self._engine, uuid.UUID(ref.review_id), now=self._clock.now()
        )

    @activity.defn(name="compliance.apply_kyc_decision")
    @maps_business_failures
    def apply_kyc_decision(self, request: DecisionInput) -> DecisionOutcome:
        decision = KycDecision(
            decision_id=uuid.UUID(request.decision_id),
            review_id=uuid.UUID(request.review_id),
            kind=DecisionKind(request.kind),
            staff_id=uuid.UUID(request.staff_id),
            staff_role=request.staff_role,
            reason=request.reason,
            level=request.level,
        )
        applied = reviews.apply_decision(self._engine, decision, now=self._clock.now())
        return DecisionOutcome(str(applied.review_id), applied.status.value, applied.level)

    @activity.defn(name="compliance.expire_kyc_review")
    @maps_business_failures
    def expire_kyc_review(self, ref: ReviewRef) -> None:
        reviews.expire_review(self._engine, uuid.UUID(ref.review_id), now=self._clock.now())

    @activity.defn(name="compliance.remind_kyc_reviewers")
    @maps_business_failures
    def remind_kyc_reviewers(self, request: ReminderInput) -> None:
        """Count the reminder on the review (the staff queue sorts by it) and log it for
        alerting; there is no mail or chat integration to notify through yet."""
        reviews.note_reminder(
            self._engine, uuid.UUID(request.review_id), request.reminder, now=self._clock.now()
        )
        log.warning(
            "kyc_review_waiting_for_compliance",
            review_id=request.review_id,
            player_id=request.user_id,
            reminder=request.reminder,
        )

    @activity.defn(name="compliance.apply_limit_change")
    @maps_business_failures
    def apply_limit_change(self, ref: LimitChangeRef) -> str:
        status = limit_changes.apply_limit_change(
            self._engine, uuid.UUID(ref.change_id), now=ref.applied_at
        )
        return status.value
