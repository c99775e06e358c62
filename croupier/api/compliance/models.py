"""Request and response bodies of the compliance routes.

Amounts are decimal strings of minor units, as everywhere in the API; the session
reminder's value is in seconds. Field limits here only bound what is parsed: the rules
live in ``croupier.compliance`` and answer with one clear message each.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from croupier.compliance.exclusions import Exclusion
from croupier.compliance.kyc import DocumentType, IdentityClaim
from croupier.compliance.limit_changes import LimitChange
from croupier.compliance.limits import GamblingRestrictions, LimitKey, LimitKind, Period
from croupier.compliance.reviews import (
    PlayerKyc,
    ReviewDetail,
    ReviewSummary,
    StoredDocument,
    SubmissionDetail,
)
from croupier.core.money import Currency

MAX_CHANGES_PER_REQUEST = 10
Digits = Annotated[str, Field(pattern=r"^[0-9]{1,78}$", examples=["1000000000000000000"])]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]

# --- KYC ----------------------------------------------------------------------------


class KycForm(BaseModel):
    """The identity fields of ``POST /kyc`` (multipart form fields next to the files).

    Not ``extra="forbid"``: FastAPI hands a form model every part of the form, the
    ``documents`` files included.
    """

    given_names: str = Field(min_length=1, max_length=100, examples=["Ann Marie"])
    family_name: str = Field(min_length=1, max_length=100, examples=["Example"])
    date_of_birth: date = Field(examples=["1990-04-01"])
    nationality: str = Field(pattern=r"^[A-Z]{2}$", examples=["DE"])
    document_type: DocumentType
    document_number: str = Field(min_length=1, max_length=40, examples=["C01X00T47"])
    document_country: str = Field(pattern=r"^[A-Z]{2}$", examples=["DE"])
    document_expires_on: date | None = Field(default=None, examples=["2031-04-01"])
    requested_level: int = Field(
        default=1, ge=1, le=3, description="1 is granted automatically when the checks are clean"
    )

    def claim(self) -> IdentityClaim:
        return IdentityClaim(
            given_names=self.given_names,
            family_name=self.family_name,
            date_of_birth=self.date_of_birth,
            nationality=self.nationality,
            document_type=self.document_type,
            document_number=self.document_number,
            document_country=self.document_country,
            document_expires_on=self.document_expires_on,
        )


class KycSubmissionResponse(BaseModel):
    review_id: uuid.UUID
    submission_id: uuid.UUID
    # Follow the review with GET /kyc.
    status: Literal["submitted"] = "submitted"


class ReviewSummaryResponse(BaseModel):
    review_id: uuid.UUID
    status: str
    requested_level: int
    granted_level: int | None
    info_request: str | None = Field(
        description="what compliance asked for; answer with a new POST /kyc"
    )
    opened_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, review: ReviewSummary) -> ReviewSummaryResponse:
        return cls(
            review_id=review.id,
            status=review.status.value,
            requested_level=review.requested_level,
            granted_level=review.granted_level,
            info_request=review.info_request,
            opened_at=review.opened_at,
            closed_at=review.closed_at,
        )


class KycStatusResponse(BaseModel):
    level: int
    latest_review: ReviewSummaryResponse | None

    @classmethod
    def of(cls, kyc: PlayerKyc) -> KycStatusResponse:
        latest = None if kyc.latest_review is None else ReviewSummaryResponse.of(kyc.latest_review)
        return cls(level=kyc.level, latest_review=latest)


class DocumentResponse(BaseModel):
    position: int
    sha256: str
    content_type: str
    size_bytes: int

    @classmethod
    def of(cls, document: StoredDocument) -> DocumentResponse:
        return cls(
            position=document.position,
            sha256=document.sha256,
            content_type=document.content_type,
            size_bytes=document.size_bytes,
        )


class SubmissionResponse(BaseModel):
    submission_id: uuid.UUID
    given_names: str
    family_name: str
    date_of_birth: date
    nationality: str
    document_type: DocumentType
    document_number: str
    document_country: str
    document_expires_on: date | None
    check_flags: list[str] | None = Field(description="null until the automated checks ran")
    submitted_at: datetime
    documents: list[DocumentResponse]

    @classmethod
    def of(cls, submission: SubmissionDetail) -> SubmissionResponse:
        claim = submission.claim
        return cls(
            submission_id=submission.id,
            given_names=claim.given_names,
            family_name=claim.family_name,
            date_of_birth=claim.date_of_birth,
            nationality=claim.nationality,
            document_type=claim.document_type,
            document_number=claim.document_number,
            document_country=claim.document_country,
            document_expires_on=claim.document_expires_on,
            check_flags=None
            if submission.check_flags is None
            else [flag.value for flag in submission.check_flags],
            submitted_at=submission.submitted_at,
            documents=[DocumentResponse.of(document) for document in submission.documents],
        )


class ReviewQueueItem(ReviewSummaryResponse):
    player_id: uuid.UUID
    reminders_sent: int

    @classmethod
    def of(cls, review: ReviewSummary) -> ReviewQueueItem:
        return cls(
            **ReviewSummaryResponse.of(review).model_dump(),
            player_id=review.user_id,
            reminders_sent=review.reminders_sent,
        )


class ReviewDetailResponse(BaseModel):
    review: ReviewQueueItem
    decided_by: str | None
    decision_reason: str | None
    submissions: list[SubmissionResponse]

    @classmethod
    def of(cls, detail: ReviewDetail) -> ReviewDetailResponse:
        return cls(
            review=ReviewQueueItem.of(detail.summary),
            decided_by=detail.decided_by,
            decision_reason=detail.decision_reason,
            submissions=[SubmissionResponse.of(submission) for submission in detail.submissions],
        )


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=1, le=3)
    reason: Reason


class ReasonRequest(BaseModel):
    """A rejection's reason, or the information asked of the player (shown to them)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class DecisionResponse(BaseModel):
    review_id: uuid.UUID
    status: str
    level: int


# --- responsible gambling -----------------------------------------------------------


class LimitSetting(BaseModel):
    """One limit to set: ``value`` null removes it (a loosening, so it waits 24 hours)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "deposit", "currency": "ETH", "period": "daily", "value": "10000"},
                {"kind": "session_reminder", "value": "3600"},
            ]
        },
    )

    kind: LimitKind
    currency: Currency | None = None
    period: Period | None = None
    value: Digits | None

    def key(self) -> LimitKey:
        return LimitKey(self.kind, self.currency, self.period)


class LimitsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: list[LimitSetting] = Field(min_length=1, max_length=MAX_CHANGES_PER_REQUEST)


class LimitResponse(BaseModel):
    key: str
    kind: LimitKind
    currency: Currency | None
    period: Period | None
    value: str

    @classmethod
    def of(cls, key: LimitKey, value: int) -> LimitResponse:
        return cls(
            key=key.render(),
            kind=key.kind,
            currency=key.currency,
            period=key.period,
            value=str(value),
        )


class LimitChangeResponse(BaseModel):
    change_id: uuid.UUID
    key: str
    status: str
    old_value: str | None
    new_value: str | None
    requested_at: datetime
    effective_at: datetime

    @classmethod
    def of(cls, change: LimitChange) -> LimitChangeResponse:
        return cls(
            change_id=change.id,
            key=change.key.render(),
            status=change.status.value,
            old_value=None if change.old_value is None else str(change.old_value),
            new_value=None if change.new_value is None else str(change.new_value),
            requested_at=change.requested_at,
            effective_at=change.effective_at,
        )


class LimitsResponse(BaseModel):
    limits: list[LimitResponse]
    pending: list[LimitChangeResponse]
    self_excluded_until: datetime | None
    cool_off_until: datetime | None

    @classmethod
    def of(
        cls,
        limits: dict[LimitKey, int],
        pending: list[LimitChange],
        restrictions: GamblingRestrictions,
    ) -> LimitsResponse:
        return cls(
            limits=[
                LimitResponse.of(key, value)
                for key, value in sorted(limits.items(), key=lambda item: item[0].render())
            ],
            pending=[LimitChangeResponse.of(change) for change in pending],
            self_excluded_until=restrictions.self_excluded_until,
            cool_off_until=restrictions.cool_off_until,
        )


class LimitsUpdateResponse(LimitsResponse):
    changes: list[LimitChangeResponse]


class ExclusionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(ge=1, le=5 * 365)


class ExclusionResponse(BaseModel):
    kind: str
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, exclusion: Exclusion) -> ExclusionResponse:
        return cls(
            kind=exclusion.kind.value, starts_at=exclusion.starts_at, ends_at=exclusion.ends_at
        )
