"""KYC reviews in PostgreSQL: submissions coming in, check results and decisions going out.

The review workflow owns a review's progress; each step here is one transaction that is
safe to run twice (a retried activity finds its work done and says so). Identity data
stays in these tables: workflows carry only ids, so no personal data enters Temporal
history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from croupier.compliance.audit import record_staff_action
from croupier.compliance.documents import Document
from croupier.compliance.errors import (
    KycLevelAlreadyGranted,
    KycReviewInProgress,
    KycReviewNotAwaitingDecision,
    KycReviewNotFound,
    ReviewerNotAuthorised,
)
from croupier.compliance.kyc import (
    CheckFlag,
    DecisionKind,
    DocumentType,
    Duplicates,
    IdentityClaim,
    KycDecision,
    VerifiedIdentity,
    assess,
    check_decision,
)
from croupier.compliance.levels import AUTO_APPROVED_LEVEL, MAX_KYC_LEVEL, kyc_level
from croupier.compliance.sanctions import SanctionsList
from croupier.compliance.tables import kyc_documents, kyc_profiles, kyc_reviews, kyc_submissions
from croupier.identity.roles import Role
from croupier.identity.tables import users

AUTOMATED_REVIEWER = "system:kyc-auto"
AUTOMATED_REASON = "automated checks found nothing to review"
MAX_OPEN_REVIEWS_PAGE = 100


class ReviewStatus(StrEnum):
    SUBMITTED = "submitted"
    CHECKING = "checking"
    AWAITING_REVIEW = "awaiting_review"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


FINAL_STATUSES = frozenset({ReviewStatus.APPROVED, ReviewStatus.REJECTED, ReviewStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class Intake:
    """Where a new submission went: a new review (start its workflow) or an open one
    that asked for more information (hand the submission to its workflow)."""

    review_id: uuid.UUID
    submission_id: uuid.UUID
    user_id: uuid.UUID
    requested_level: int
    opens_review: bool


@dataclass(frozen=True, slots=True)
class StoredDocument:
    position: int
    sha256: str
    content_type: str
    size_bytes: int
    stored_name: str


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    id: uuid.UUID
    user_id: uuid.UUID
    status: ReviewStatus
    requested_level: int
    granted_level: int | None
    info_request: str | None
    reminders_sent: int
    opened_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubmissionDetail:
    id: uuid.UUID
    claim: IdentityClaim
    check_flags: tuple[CheckFlag, ...] | None
    submitted_at: datetime
    documents: tuple[StoredDocument, ...]


@dataclass(frozen=True, slots=True)
class ReviewDetail:
    summary: ReviewSummary
    decided_by: str | None
    decision_reason: str | None
    submissions: tuple[SubmissionDetail, ...]


@dataclass(frozen=True, slots=True)
class PlayerKyc:
    level: int
    latest_review: ReviewSummary | None


@dataclass(frozen=True, slots=True)
class CheckResult:
    flags: tuple[CheckFlag, ...]
    current_level: int


@dataclass(frozen=True, slots=True)
class DecisionApplied:
    review_id: uuid.UUID
    status: ReviewStatus
    level: int


# --- intake (the API) ---------------------------------------------------------------


def take_submission(
    engine: Engine,
    *,
    user_id: uuid.UUID,
    claim: IdentityClaim,
    requested_level: int,
    documents: Sequence[tuple[Document, str]],
    now: datetime,
) -> Intake:
    """Store a submission (documents already on disk, with their stored names) in a new
    review, or in the player's open review that is waiting for more information."""
    assert 1 <= requested_level <= MAX_KYC_LEVEL
    try:
        with engine.begin() as conn:
            intake = _place_submission(conn, user_id, requested_level, now)
            _insert_submission(conn, intake, claim, documents, now)
    except IntegrityError as error:
        if _violated_constraint(error) == "uq_kyc_reviews_one_open_per_user":
            raise KycReviewInProgress("a KYC review of yours is already in progress") from None
        raise
    return intake


def withdraw_submission(engine: Engine, intake: Intake) -> None:
    """Undo ``take_submission`` when its workflow refused it or could not be reached."""
    with engine.begin() as conn:
        if intake.opens_review:
            conn.execute(
                delete(kyc_reviews).where(
                    kyc_reviews.c.id == intake.review_id,
                    kyc_reviews.c.status == ReviewStatus.SUBMITTED.value,
                )
            )
        else:
            conn.execute(
                delete(kyc_submissions).where(
                    kyc_submissions.c.id == intake.submission_id,
                    kyc_submissions.c.checked_at.is_(None),
                )
            )


def check_can_submit(engine: Engine, user_id: uuid.UUID, requested_level: int) -> None:
    """Refuse early, before documents are stored, what ``take_submission`` would refuse."""
    with engine.connect() as conn:
        _review_taking_submissions(conn, user_id, requested_level, lock=False)


def _review_taking_submissions(
    conn: Connection, user_id: uuid.UUID, requested_level: int, *, lock: bool
) -> Any:
    """The open review waiting for this player's answer, or None when a new one may open."""
    query = select(kyc_reviews).where(
        kyc_reviews.c.user_id == user_id, kyc_reviews.c.closed_at.is_(None)
    )
    open_review = conn.execute(query.with_for_update() if lock else query).first()
    if open_review is not None:
        if open_review.status != ReviewStatus.INFO_REQUESTED.value:
            raise KycReviewInProgress(
                "your KYC review is in progress; submit again only when asked for more information"
            )
        return open_review
    current_level = kyc_level(conn, user_id)
    if requested_level <= current_level:
        raise KycLevelAlreadyGranted(f"you are already verified at level {current_level}")
    return None


def _place_submission(
    conn: Connection, user_id: uuid.UUID, requested_level: int, now: datetime
) -> Intake:
    submission_id = uuid.uuid4()
    open_review = _review_taking_submissions(conn, user_id, requested_level, lock=True)
    if open_review is not None:
        return Intake(open_review.id, submission_id, user_id, open_review.requested_level, False)
    review_id = uuid.uuid4()
    conn.execute(
        insert(kyc_reviews).values(
            id=review_id,
            user_id=user_id,
            requested_level=requested_level,
            status=ReviewStatus.SUBMITTED.value,
            reminders_sent=0,
            opened_at=now,
            updated_at=now,
        )
    )
    return Intake(review_id, submission_id, user_id, requested_level, True)


def _insert_submission(
    conn: Connection,
    intake: Intake,
    claim: IdentityClaim,
    documents: Sequence[tuple[Document, str]],
    now: datetime,
) -> None:
    conn.execute(
        insert(kyc_submissions).values(
            id=intake.submission_id,
            review_id=intake.review_id,
            user_id=intake.user_id,
            given_names=claim.given_names,
            family_name=claim.family_name,
            date_of_birth=claim.date_of_birth,
            nationality=claim.nationality,
            document_type=claim.document_type.value,
            document_number=claim.document_number,
            document_country=claim.document_country,
            document_expires_on=claim.document_expires_on,
            identity_key=claim.identity_key,
            document_key=claim.document_key,
            submitted_at=now,
        )
    )
    if documents:
        conn.execute(
            insert(kyc_documents),
            [
                {
                    "submission_id": intake.submission_id,
                    "position": position,
                    "sha256": document.sha256,
                    "content_type": document.content_type,
                    "size_bytes": document.size_bytes,
                    "stored_name": stored_name,
                }
                for position, (document, stored_name) in enumerate(documents)
            ],
        )


# --- reads (the API) ----------------------------------------------------------------


def player_kyc(conn: Connection, user_id: uuid.UUID) -> PlayerKyc:
    latest = conn.execute(
        select(kyc_reviews)
        .where(kyc_reviews.c.user_id == user_id)
        .order_by(kyc_reviews.c.opened_at.desc())
        .limit(1)
    ).first()
    return PlayerKyc(kyc_level(conn, user_id), None if latest is None else _summary(latest))


def open_reviews(
    conn: Connection, *, status: ReviewStatus | None, limit: int
) -> list[ReviewSummary]:
    """Open reviews, oldest first (the queue compliance staff work through)."""
    assert 1 <= limit <= MAX_OPEN_REVIEWS_PAGE
    query = select(kyc_reviews).where(kyc_reviews.c.closed_at.is_(None))
    if status is not None:
        query = query.where(kyc_reviews.c.status == status.value)
    rows = conn.execute(query.order_by(kyc_reviews.c.opened_at).limit(limit)).all()
    return [_summary(row) for row in rows]


def review_detail(conn: Connection, review_id: uuid.UUID) -> ReviewDetail:
    review = conn.execute(select(kyc_reviews).where(kyc_reviews.c.id == review_id)).first()
    if review is None:
        raise KycReviewNotFound(f"no KYC review with id {review_id}")
    submissions = conn.execute(
        select(kyc_submissions)
        .where(kyc_submissions.c.review_id == review_id)
        .order_by(kyc_submissions.c.submitted_at)
    ).all()
    documents = conn.execute(
        select(kyc_documents)
        .where(kyc_documents.c.submission_id.in_([row.id for row in submissions]))
        .order_by(kyc_documents.c.position)
    ).all()
    return ReviewDetail(
        summary=_summary(review),
        decided_by=review.decided_by,
        decision_reason=review.decision_reason,
        submissions=tuple(
            SubmissionDetail(
                id=row.id,
                claim=_claim(row),
                check_flags=None
                if row.check_flags is None
                else tuple(CheckFlag(flag) for flag in row.check_flags),
                submitted_at=row.submitted_at,
                documents=tuple(
                    StoredDocument(
                        doc.position, doc.sha256, doc.content_type, doc.size_bytes, doc.stored_name
                    )
                    for doc in documents
                    if doc.submission_id == row.id
                ),
            )
            for row in submissions
        ),
    )


def review_status(conn: Connection, review_id: uuid.UUID) -> ReviewStatus:
    status = conn.execute(
        select(kyc_reviews.c.status).where(kyc_reviews.c.id == review_id)
    ).scalar_one_or_none()
    if status is None:
        raise KycReviewNotFound(f"no KYC review with id {review_id}")
    return ReviewStatus(status)


# --- the review workflow's steps (activities) ---------------------------------------


def run_checks(
    engine: Engine, submission_id: uuid.UUID, *, sanctions: SanctionsList, now: datetime
) -> CheckResult:
    """Run the automated checks once per submission; a retry returns the stored flags.

    Ages and document expiry are judged on ``now``'s UTC date.
    """
    assert now.utcoffset() is not None and not now.utcoffset(), "checks run on UTC dates"
    with engine.begin() as conn:
        row = conn.execute(
            select(kyc_submissions).where(kyc_submissions.c.id == submission_id).with_for_update()
        ).first()
        if row is None:
            raise KycReviewNotFound(f"no KYC submission with id {submission_id}")
        current_level = kyc_level(conn, row.user_id)
        if row.check_flags is not None:
            return CheckResult(tuple(CheckFlag(flag) for flag in row.check_flags), current_level)
        claim = _claim(row)
        flags = assess(
            claim,
            today=now.date(),
            verified=_verified_identity(conn, row.user_id),
            sanctions_hits=sanctions.matches(claim.full_name, claim.date_of_birth),
            duplicates=_duplicates(conn, row.user_id, claim),
        )
        conn.execute(
            update(kyc_submissions)
            .where(kyc_submissions.c.id == submission_id)
            .values(check_flags=[flag.value for flag in flags], checked_at=now)
        )
        _move(
            conn,
            row.review_id,
            {ReviewStatus.SUBMITTED, ReviewStatus.INFO_REQUESTED},
            ReviewStatus.CHECKING,
            now,
        )
    return CheckResult(flags, current_level)


def await_review(engine: Engine, review_id: uuid.UUID, *, now: datetime) -> None:
    with engine.begin() as conn:
        _move(conn, review_id, {ReviewStatus.CHECKING}, ReviewStatus.AWAITING_REVIEW, now)


def approve_automatically(engine: Engine, review_id: uuid.UUID, *, now: datetime) -> int:
    """Grant the basic level to a clean submission; recorded in the audit log as the
    system's decision, so every level change has an audit row."""
    with engine.begin() as conn:
        review = _locked_review(conn, review_id)
        if review.status == ReviewStatus.APPROVED.value:
            return int(review.granted_level)
        assert review.status == ReviewStatus.CHECKING.value, review.status
        _close(
            conn,
            review,
            ReviewStatus.APPROVED,
            AUTOMATED_REVIEWER,
            AUTOMATED_REASON,
            AUTO_APPROVED_LEVEL,
            None,
            now,
        )
        _grant_level(conn, review, AUTO_APPROVED_LEVEL, now)
        record_staff_action(
            conn,
            AUTOMATED_REVIEWER,
            "kyc.approve",
            f"kyc_review:{review_id}",
            {
                "player": str(review.user_id),
                "level": AUTO_APPROVED_LEVEL,
                "reason": AUTOMATED_REASON,
            },
        )
    return AUTO_APPROVED_LEVEL


def apply_decision(engine: Engine, decision: KycDecision, *, now: datetime) -> DecisionApplied:
    """Apply a compliance officer's decision and its audit row in one transaction.

    The officer's role is read again from the database: a role taken away after the
    token was issued (or a forged claim) is refused here even if every check before
    passed.
    """
    with engine.begin() as conn:
        review = _locked_review(conn, decision.review_id)
        if review.last_decision_id == decision.decision_id:
            return DecisionApplied(
                review.id, ReviewStatus(review.status), kyc_level(conn, review.user_id)
            )
        if review.status != ReviewStatus.AWAITING_REVIEW.value:
            raise KycReviewNotAwaitingDecision(
                f"KYC review {review.id} is {review.status}, not awaiting a decision"
            )
        check_decision(decision, current_level=kyc_level(conn, review.user_id))
        _require_compliance_officer(conn, decision.staff_id)
        status = _apply(conn, review, decision, now)
        record_staff_action(
            conn,
            decision.staff_id,
            decision.audit_action,
            f"kyc_review:{review.id}",
            {
                "player": str(review.user_id),
                "decision_id": str(decision.decision_id),
                "level": decision.level,
                "reason": decision.reason,
            },
        )
        return DecisionApplied(review.id, status, kyc_level(conn, review.user_id))


def expire_review(engine: Engine, review_id: uuid.UUID, *, now: datetime) -> None:
    """Close a review whose request for more information went unanswered."""
    with engine.begin() as conn:
        review = _locked_review(conn, review_id)
        if review.status == ReviewStatus.INFO_REQUESTED.value:
            _close(
                conn, review, ReviewStatus.EXPIRED, None, None, None, review.last_decision_id, now
            )


def note_reminder(engine: Engine, review_id: uuid.UUID, reminder: int, *, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(kyc_reviews)
            .where(kyc_reviews.c.id == review_id)
            .values(
                reminders_sent=func.greatest(kyc_reviews.c.reminders_sent, reminder),
                updated_at=now,
            )
        )


# --- helpers ------------------------------------------------------------------------


def _apply(conn: Connection, review: Any, decision: KycDecision, now: datetime) -> ReviewStatus:
    if decision.kind is DecisionKind.APPROVE:
        assert decision.level is not None
        _close(
            conn,
            review,
            ReviewStatus.APPROVED,
            str(decision.staff_id),
            decision.reason,
            decision.level,
            decision.decision_id,
            now,
        )
        _grant_level(conn, review, decision.level, now)
        return ReviewStatus.APPROVED
    if decision.kind is DecisionKind.REJECT:
        _close(
            conn,
            review,
            ReviewStatus.REJECTED,
            str(decision.staff_id),
            decision.reason,
            None,
            decision.decision_id,
            now,
        )
        return ReviewStatus.REJECTED
    conn.execute(
        update(kyc_reviews)
        .where(kyc_reviews.c.id == review.id)
        .values(
            status=ReviewStatus.INFO_REQUESTED.value,
            info_request=decision.reason,
            last_decision_id=decision.decision_id,
            updated_at=now,
        )
    )
    return ReviewStatus.INFO_REQUESTED


def _close(
    conn: Connection,
    review: Any,
    status: ReviewStatus,
    decided_by: str | None,
    reason: str | None,
    level: int | None,
    decision_id: uuid.UUID | None,
    now: datetime,
) -> None:
    conn.execute(
        update(kyc_reviews)
        .where(kyc_reviews.c.id == review.id)
        .values(
            status=status.value,
            granted_level=level,
            decided_by=decided_by,
            decision_reason=reason,
            last_decision_id=decision_id,
            updated_at=now,
            closed_at=now,
        )
    )


def _grant_level(conn: Connection, review: Any, level: int, now: datetime) -> None:
    """Raise the player's level, remembering the identity it was granted for."""
    assert level > kyc_level(conn, review.user_id), "a review only ever raises a level"
    latest = conn.execute(
        select(kyc_submissions)
        .where(kyc_submissions.c.review_id == review.id)
        .order_by(kyc_submissions.c.submitted_at.desc())
        .limit(1)
    ).one()
    values = {
        "level": level,
        "review_id": review.id,
        "given_names": latest.given_names,
        "family_name": latest.family_name,
        "date_of_birth": latest.date_of_birth,
        "updated_at": now,
    }
    conn.execute(
        pg_insert(kyc_profiles)
        .values(user_id=review.user_id, **values)
        .on_conflict_do_update(index_elements=[kyc_profiles.c.user_id], set_=values)
    )


def _move(
    conn: Connection,
    review_id: uuid.UUID,
    from_statuses: set[ReviewStatus],
    to_status: ReviewStatus,
    now: datetime,
) -> None:
    """A status step, applied once: a retry finds the review already moved on."""
    conn.execute(
        update(kyc_reviews)
        .where(
            kyc_reviews.c.id == review_id,
            kyc_reviews.c.status.in_([status.value for status in from_statuses]),
        )
        .values(status=to_status.value, updated_at=now)
    )


def _locked_review(conn: Connection, review_id: uuid.UUID) -> Any:
    review = conn.execute(
        select(kyc_reviews).where(kyc_reviews.c.id == review_id).with_for_update()
    ).first()
    if review is None:
        raise KycReviewNotFound(f"no KYC review with id {review_id}")
    return review


def _require_compliance_officer(conn: Connection, staff_id: uuid.UUID) -> None:
    role = conn.execute(select(users.c.role).where(users.c.id == staff_id)).scalar_one_or_none()
    if role != Role.COMPLIANCE.value:
        raise ReviewerNotAuthorised(f"user {staff_id} is not compliance staff")


def _verified_identity(conn: Connection, user_id: uuid.UUID) -> VerifiedIdentity | None:
    row = conn.execute(select(kyc_profiles).where(kyc_profiles.c.user_id == user_id)).first()
    if row is None:
        return None
    return VerifiedIdentity(row.given_names, row.family_name, row.date_of_birth)


def _duplicates(conn: Connection, user_id: uuid.UUID, claim: IdentityClaim) -> Duplicates:
    document_key, identity_key = claim.document_key, claim.identity_key
    row = conn.execute(
        select(
            func.coalesce(func.bool_or(kyc_submissions.c.document_key == document_key), False),
            func.coalesce(func.bool_or(kyc_submissions.c.identity_key == identity_key), False),
        ).where(
            kyc_submissions.c.user_id != user_id,
            or_(
                kyc_submissions.c.document_key == document_key,
                kyc_submissions.c.identity_key == identity_key,
            ),
        )
    ).one()
    return Duplicates(same_document=bool(row[0]), same_identity=bool(row[1]))


def _claim(row: Any) -> IdentityClaim:
    return IdentityClaim(
        given_names=row.given_names,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        nationality=row.nationality,
        document_type=DocumentType(row.document_type),
        document_number=row.document_number,
        document_country=row.document_country,
        document_expires_on=row.document_expires_on,
    )


def _summary(row: Any) -> ReviewSummary:
    return ReviewSummary(
        id=row.id,
        user_id=row.user_id,
        status=ReviewStatus(row.status),
        requested_level=row.requested_level,
        granted_level=row.granted_level,
        info_request=row.info_request,
        reminders_sent=row.reminders_sent,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
    )


def _violated_constraint(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)
