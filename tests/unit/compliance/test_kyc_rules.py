"""The automated KYC checks and the rules for staff decisions, as pure functions."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from croupier.compliance.errors import (
    InvalidKycDecision,
    InvalidKycSubmission,
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
    age_on,
    assess,
    auto_approvable,
    check_decision,
)
from croupier.compliance.sanctions import SanctionsHit

TODAY = date(2025, 6, 15)
NO_DUPLICATES = Duplicates(same_document=False, same_identity=False)
CLAIM = IdentityClaim(
    given_names="Ann Marie",
    family_name="Example-Smith",
    date_of_birth=date(1990, 4, 1),
    nationality="DE",
    document_type=DocumentType.PASSPORT,
    document_number="C01X00T47",
    document_country="DE",
    document_expires_on=date(2030, 1, 1),
)


def flags_of(claim: IdentityClaim = CLAIM, **facts: object) -> tuple[CheckFlag, ...]:
    return assess(
        claim,
        today=TODAY,
        verified=facts.get("verified"),  # type: ignore[arg-type]
        sanctions_hits=facts.get("hits", ()),  # type: ignore[arg-type]
        duplicates=facts.get("duplicates", NO_DUPLICATES),  # type: ignore[arg-type]
    )


def test_a_clean_adult_raises_no_flag() -> None:
    assert flags_of() == ()


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        (date(2007, 6, 15), ()),  # 18 today
        (date(2007, 6, 16), (CheckFlag.UNDER_AGE,)),  # 18 tomorrow
        (date(2025, 6, 16), (CheckFlag.IMPLAUSIBLE_DATE_OF_BIRTH,)),  # not born yet
        (date(1904, 6, 14), (CheckFlag.IMPLAUSIBLE_DATE_OF_BIRTH,)),  # 121
    ],
)
def test_age_is_judged_on_the_day_of_the_check(born: date, expected: tuple[CheckFlag, ...]) -> None:
    assert flags_of(dataclasses.replace(CLAIM, date_of_birth=born)) == expected


def test_a_leap_day_birthday_comes_of_age_on_the_first_of_march() -> None:
    assert age_on(date(2004, 2, 29), date(2022, 2, 28)) == 17
    assert age_on(date(2004, 2, 29), date(2022, 3, 1)) == 18


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 150))
def test_age_on_a_birthday_is_the_years_since_birth(born: date, years: int) -> None:
    try:
        birthday = born.replace(year=born.year + years)
    except ValueError:  # 29 February in a common year
        return
    assert age_on(born, birthday) == years


def test_names_with_digits_and_expired_documents_are_flagged() -> None:
    claim = dataclasses.replace(CLAIM, given_names="Ann2", document_expires_on=date(2025, 6, 14))
    assert flags_of(claim) == (CheckFlag.MALFORMED_NAME, CheckFlag.DOCUMENT_EXPIRED)


def test_names_in_any_script_with_apostrophes_pass() -> None:
    claim = dataclasses.replace(CLAIM, given_names="Zoë Ōtsuka", family_name="O\u2019Brien-Łęcka")
    assert flags_of(claim) == ()


def test_a_second_review_must_be_the_person_verified_before() -> None:
    same = VerifiedIdentity("ANN  marie", "Example Smith", date(1990, 4, 1))
    other = VerifiedIdentity("Ann Marie", "Example-Smith", date(1990, 4, 2))

    assert flags_of(verified=same) == ()
    assert flags_of(verified=other) == (CheckFlag.IDENTITY_DIFFERS_FROM_VERIFIED,)


def test_sanctions_hits_and_duplicates_are_flagged() -> None:
    flags = flags_of(
        hits=[SanctionsHit("SAMPLE-1", "Ann Example", True)],
        duplicates=Duplicates(same_document=True, same_identity=True),
    )
    assert flags == (
        CheckFlag.SANCTIONS_MATCH,
        CheckFlag.DUPLICATE_DOCUMENT,
        CheckFlag.DUPLICATE_IDENTITY,
    )


def test_only_clean_requests_for_the_basic_level_skip_staff() -> None:
    assert auto_approvable((), 1)
    assert not auto_approvable((), 2)
    assert not auto_approvable((CheckFlag.SANCTIONS_MATCH,), 1)


def test_document_and_identity_keys_ignore_spelling_details() -> None:
    respelled = dataclasses.replace(
        CLAIM, given_names="marie ANN", family_name="Example Smith", document_number="c01x-00t47"
    )
    other_number = dataclasses.replace(CLAIM, document_number="C01X00T48")

    assert respelled.identity_key == CLAIM.identity_key
    assert respelled.document_key == CLAIM.document_key
    assert other_number.document_key != CLAIM.document_key


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("given_names", " "),
        ("family_name", "x" * 101),
        ("nationality", "de"),
        ("document_country", "DEU"),
        ("document_number", "--"),
    ],
)
def test_malformed_claims_are_refused_with_the_field_named(field: str, value: str) -> None:
    with pytest.raises(InvalidKycSubmission, match=field):
        dataclasses.replace(CLAIM, **{field: value})


def decision(**fields: object) -> KycDecision:
    base = KycDecision(
        decision_id=uuid.uuid4(),
        review_id=uuid.uuid4(),
        kind=DecisionKind.APPROVE,
        staff_id=uuid.uuid4(),
        staff_role="compliance",
        reason="documents in order",
        level=2,
    )
    return dataclasses.replace(base, **fields)


def test_a_compliance_officer_may_approve_a_higher_level() -> None:
    check_decision(decision(), current_level=1)


@pytest.mark.parametrize("role", ["player", "support", "treasury", "admin"])
def test_only_compliance_decides(role: str) -> None:
    with pytest.raises(ReviewerNotAuthorised):
        check_decision(decision(staff_role=role), current_level=0)


@pytest.mark.parametrize(
    ("fields", "current_level"),
    [
        ({"reason": ""}, 0),
        ({"reason": "x" * 2001}, 0),
        ({"level": None}, 0),
        ({"level": 0}, 0),
        ({"level": 4}, 0),
        ({"level": 2}, 2),
        ({"kind": DecisionKind.REJECT, "level": 1}, 0),
    ],
)
def test_decisions_without_reason_or_with_a_wrong_level_are_refused(
    fields: dict[str, object], current_level: int
) -> None:
    with pytest.raises(InvalidKycDecision):
        check_decision(decision(**fields), current_level=current_level)
