"""KYC rules as pure functions: what a player declares, what the automated checks flag,
and which staff decisions are acceptable.

Nothing here reads a clock or a database; ``reviews`` feeds it the facts (today's
date, the verified identity, sanctions hits, duplicates) and stores the outcome, and
the review workflow's update validators call ``check_decision`` as they are.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from croupier.compliance.errors import (
    InvalidKycDecision,
    InvalidKycSubmission,
    ReviewerNotAuthorised,
)
from croupier.compliance.levels import AUTO_APPROVED_LEVEL, MAX_KYC_LEVEL
from croupier.compliance.sanctions import SanctionsHit, name_words
from croupier.identity.roles import Role

MIN_AGE_YEARS = 18
MAX_AGE_YEARS = 120
MAX_NAME_CHARS = 100
MAX_DOCUMENT_NUMBER_CHARS = 40
MAX_REASON_CHARS = 2000
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
# Letters of any script, and the few marks names really contain.
_NAME_PUNCTUATION = frozenset(" -'\u2019.")  # \u2019: the typographic apostrophe


class DocumentType(StrEnum):
    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    DRIVING_LICENCE = "driving_licence"
    RESIDENCE_PERMIT = "residence_permit"


class CheckFlag(StrEnum):
    """Why the automated checks did not clear a submission by themselves."""

    UNDER_AGE = "under_age"
    IMPLAUSIBLE_DATE_OF_BIRTH = "implausible_date_of_birth"
    MALFORMED_NAME = "malformed_name"
    DOCUMENT_EXPIRED = "document_expired"
    IDENTITY_DIFFERS_FROM_VERIFIED = "identity_differs_from_verified"
    SANCTIONS_MATCH = "sanctions_match"
    DUPLICATE_DOCUMENT = "duplicate_document"
    DUPLICATE_IDENTITY = "duplicate_identity"


@dataclass(frozen=True, slots=True)
class IdentityClaim:
    """What the player declares about themselves and their identity document."""

    given_names: str
    family_name: str
    date_of_birth: date
    nationality: str
    document_type: DocumentType
    document_number: str
    document_country: str
    document_expires_on: date | None

    def __post_init__(self) -> None:
        for label, value in (("given_names", self.given_names), ("family_name", self.family_name)):
            if not value.strip() or len(value) > MAX_NAME_CHARS:
                raise InvalidKycSubmission(f"{label} must be 1-{MAX_NAME_CHARS} characters")
        for label, code in (
            ("nationality", self.nationality),
            ("document_country", self.document_country),
        ):
            if not _COUNTRY_RE.match(code):
                raise InvalidKycSubmission(f"{label} must be an ISO 3166 alpha-2 code such as DE")
        number = _document_number(self.document_number)
        if not number or len(self.document_number) > MAX_DOCUMENT_NUMBER_CHARS:
            raise InvalidKycSubmission(
                f"document_number must hold 1-{MAX_DOCUMENT_NUMBER_CHARS} letters or digits"
            )

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}"

    @property
    def identity_key(self) -> str:
        """Who this is, independent of spelling details: name words and date of birth."""
        words = " ".join(sorted(name_words(self.full_name)))
        return _digest(f"{words}|{self.date_of_birth.isoformat()}")

    @property
    def document_key(self) -> str:
        """Which document this is: type, issuing country and number without separators."""
        number = _document_number(self.document_number)
        return _digest(f"{self.document_type.value}|{self.document_country}|{number}")


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """The identity a previous review approved; a later submission must be the same person."""

    given_names: str
    family_name: str
    date_of_birth: date


@dataclass(frozen=True, slots=True)
class Duplicates:
    """Other accounts' submissions sharing this document, or this name and birth date."""

    same_document: bool
    same_identity: bool


def age_on(date_of_birth: date, today: date) -> int:
    """Whole years lived on ``today`` (someone born on 29 February ages on 1 March)."""
    birthday_passed = (today.month, today.day) >= (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - (0 if birthday_passed else 1)


def assess(
    claim: IdentityClaim,
    *,
    today: date,
    verified: VerifiedIdentity | None,
    sanctions_hits: Sequence[SanctionsHit],
    duplicates: Duplicates,
) -> tuple[CheckFlag, ...]:
    """Every flag the automated checks raise; empty means the submission is clean."""
    flags: list[CheckFlag] = []
    if claim.date_of_birth > today or age_on(claim.date_of_birth, today) > MAX_AGE_YEARS:
        flags.append(CheckFlag.IMPLAUSIBLE_DATE_OF_BIRTH)
    elif age_on(claim.date_of_birth, today) < MIN_AGE_YEARS:
        flags.append(CheckFlag.UNDER_AGE)
    if not (_is_name(claim.given_names) and _is_name(claim.family_name)):
        flags.append(CheckFlag.MALFORMED_NAME)
    if claim.document_expires_on is not None and claim.document_expires_on < today:
        flags.append(CheckFlag.DOCUMENT_EXPIRED)
    if verified is not None and not _same_person(claim, verified):
        flags.append(CheckFlag.IDENTITY_DIFFERS_FROM_VERIFIED)
    if sanctions_hits:
        flags.append(CheckFlag.SANCTIONS_MATCH)
    if duplicates.same_document:
        flags.append(CheckFlag.DUPLICATE_DOCUMENT)
    if duplicates.same_identity:
        flags.append(CheckFlag.DUPLICATE_IDENTITY)
    return tuple(flags)


def auto_approvable(flags: Sequence[CheckFlag], requested_level: int) -> bool:
    """Clean submissions asking for the basic level need no human."""
    return not flags and requested_level == AUTO_APPROVED_LEVEL


# --- staff decisions ----------------------------------------------------------------


class DecisionKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INFO = "request_info"


@dataclass(frozen=True, slots=True)
class KycDecision:
    decision_id: uuid.UUID
    review_id: uuid.UUID
    kind: DecisionKind
    staff_id: uuid.UUID
    # The role the API saw in the staff member's token; checked again here.
    staff_role: str
    reason: str
    # Only for APPROVE: the level granted.
    level: int | None

    @property
    def audit_action(self) -> str:
        return f"kyc.{self.kind.value}"


def check_decision(decision: KycDecision, *, current_level: int) -> None:
    """Refuse a decision no compliance officer could legitimately make."""
    if decision.staff_role != Role.COMPLIANCE.value:
        raise ReviewerNotAuthorised(
            f"only compliance staff decide KYC reviews, not {decision.staff_role!r}"
        )
    if not decision.reason.strip() or len(decision.reason) > MAX_REASON_CHARS:
        raise InvalidKycDecision(f"a decision needs a reason of 1-{MAX_REASON_CHARS} characters")
    if decision.kind is DecisionKind.APPROVE:
        if decision.level is None or not 1 <= decision.level <= MAX_KYC_LEVEL:
            raise InvalidKycDecision(f"an approval grants a level from 1 to {MAX_KYC_LEVEL}")
        if decision.level <= current_level:
            raise InvalidKycDecision(
                f"the player already holds level {current_level}; approve a higher level or reject"
            )
    elif decision.level is not None:
        raise InvalidKycDecision("only an approval names a level")


def _is_name(name: str) -> bool:
    letters = 0
    for char in name:
        if char in _NAME_PUNCTUATION or unicodedata.category(char).startswith("M"):
            continue
        if not unicodedata.category(char).startswith("L"):
            return False
        letters += 1
    return letters > 0


def _same_person(claim: IdentityClaim, verified: VerifiedIdentity) -> bool:
    verified_name = f"{verified.given_names} {verified.family_name}"
    return (
        name_words(claim.full_name) == name_words(verified_name)
        and claim.date_of_birth == verified.date_of_birth
    )


def _document_number(raw: str) -> str:
    return "".join(char for char in raw.upper() if char.isascii() and char.isalnum())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
