"""Compliance errors. Each subclasses a core error, so the API maps it once (403, 404, 409,
422) and an activity turns it into a non-retryable failure with the same code."""

from __future__ import annotations

from croupier.core.errors import (
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

# --- KYC submissions and documents ------------------------------------------------------


class InvalidKycSubmission(InvalidInput):
    code = "invalid_kyc_submission"


class DocumentTooLarge(InvalidInput):
    code = "document_too_large"


class UnsupportedDocumentType(InvalidInput):
    """The bytes are not one of the allowed types, or not the type the upload declared."""

    code = "unsupported_document_type"


class KycLevelAlreadyGranted(Conflict):
    code = "kyc_level_already_granted"


class KycReviewInProgress(Conflict):
    """The player already has an open review that is not waiting for their answer."""

    code = "kyc_review_in_progress"


# --- KYC reviews and decisions ----------------------------------------------------------


class KycReviewNotFound(NotFound):
    code = "kyc_review_not_found"


class KycReviewClosed(Conflict):
    code = "kyc_review_closed"


class KycReviewNotAwaitingDecision(Conflict):
    code = "kyc_review_not_awaiting_decision"


class KycReviewNotAwaitingInformation(Conflict):
    code = "kyc_review_not_awaiting_information"


class InvalidKycDecision(InvalidInput):
    code = "invalid_kyc_decision"


class ReviewerNotAuthorised(PermissionDenied):
    """A KYC decision from someone who is not (or no longer) compliance staff."""

    code = "reviewer_not_authorised"


class SanctionsListUnavailable(ConfigurationError):
    code = "sanctions_list_unavailable"


# --- Responsible gambling ---------------------------------------------------------------


class InvalidLimit(InvalidInput):
    code = "invalid_limit"


class LimitChangeNotFound(NotFound):
    code = "limit_change_not_found"


class ExclusionCannotBeShortened(Conflict):
    """A self-exclusion or cool-off runs to its end; a new one may only end later."""

    code = "exclusion_cannot_be_shortened"


class GamblingRestricted(PermissionDenied):
    """The player's own responsible-gambling choices refuse this bet or deposit."""

    code = "gambling_restricted"


class SelfExcluded(GamblingRestricted):
    code = "self_excluded"


class CoolingOff(GamblingRestricted):
    code = "cooling_off"


class LossLimitReached(GamblingRestricted):
    code = "loss_limit_reached"


class DepositLimitReached(GamblingRestricted):
    code = "deposit_limit_reached"


# --- Audit log --------------------------------------------------------------------------


class InvalidAuditEntry(InvalidInput):
    code = "invalid_audit_entry"
