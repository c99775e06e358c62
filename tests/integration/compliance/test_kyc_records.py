"""KYC reviews in PostgreSQL: one open review per player, the checks' database facts
(duplicates across accounts, the verified identity), and levels that only go up."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from croupier.compliance.errors import (
    KycLevelAlreadyGranted,
    KycReviewInProgress,
    KycReviewNotAwaitingDecision,
)
from croupier.compliance.kyc import CheckFlag, DecisionKind, KycDecision
from croupier.compliance.levels import kyc_level
from croupier.compliance.reviews import (
    ReviewStatus,
    apply_decision,
    approve_automatically,
    await_review,
    player_kyc,
    review_detail,
    run_checks,
    withdraw_submission,
)
from croupier.compliance.sanctions import SAMPLE_LIST_PATH, SanctionsList
from croupier.identity.roles import Role
from tests.integration.compliance.people import claim, make_user, sanctioned_claim, submit

SANCTIONS = SanctionsList.load(SAMPLE_LIST_PATH)


def now() -> datetime:
    return datetime.now(UTC)


def checks(engine: Engine, submission_id: uuid.UUID) -> tuple[CheckFlag, ...]:
    return run_checks(engine, submission_id, sanctions=SANCTIONS, now=now()).flags


def approve(engine: Engine, review_id: uuid.UUID, officer: uuid.UUID, level: int) -> None:
    await_review(engine, review_id, now=now())
    apply_decision(
        engine,
        KycDecision(
            uuid.uuid4(), review_id, DecisionKind.APPROVE, officer, "compliance", "ok", level
        ),
        now=now(),
    )


def test_a_player_has_one_open_review_at_a_time(engine: Engine) -> None:
    player = make_user(engine)
    first = submit(engine, player, claim())

    with pytest.raises(KycReviewInProgress):
        submit(engine, player, claim())
    withdraw_submission(engine, first)
    second = submit(engine, player, claim())

    assert first.opens_review and second.opens_review
    assert second.review_id != first.review_id


def test_a_level_already_held_cannot_be_asked_for_again(engine: Engine) -> None:
    player = make_user(engine)
    intake = submit(engine, player, claim())
    checks(engine, intake.submission_id)
    approve_automatically(engine, intake.review_id, now=now())

    with pytest.raises(KycLevelAlreadyGranted, match="level 1"):
        submit(engine, player, claim(), requested_level=1)
    assert submit(engine, player, claim(), requested_level=2).opens_review


def test_the_same_document_or_person_on_another_account_is_flagged(engine: Engine) -> None:
    first_account, second_account = make_user(engine), make_user(engine)
    identity = claim()
    checks(engine, submit(engine, first_account, identity).submission_id)

    flags = checks(engine, submit(engine, second_account, identity).submission_id)

    assert flags == (CheckFlag.DUPLICATE_DOCUMENT, CheckFlag.DUPLICATE_IDENTITY)


def test_a_sanctioned_name_is_flagged_and_the_flags_are_stored_once(engine: Engine) -> None:
    player = make_user(engine)
    intake = submit(engine, player, sanctioned_claim())

    first = checks(engine, intake.submission_id)
    again = checks(engine, intake.submission_id)

    with engine.connect() as conn:
        detail = review_detail(conn, intake.review_id)
    assert first == again
    assert CheckFlag.SANCTIONS_MATCH in first
    assert detail.submissions[0].check_flags == first
    assert detail.summary.status is ReviewStatus.CHECKING


def test_a_later_review_must_be_the_person_verified_earlier(engine: Engine) -> None:
    player, officer = make_user(engine), make_user(engine, Role.COMPLIANCE)
    identity = claim()
    intake = submit(engine, player, identity)
    checks(engine, intake.submission_id)
    approve_automatically(engine, intake.review_id, now=now())

    upgrade = submit(engine, player, claim(given_names="Someone Else"), requested_level=2)
    flags = checks(engine, upgrade.submission_id)
    approve(engine, upgrade.review_id, officer, 2)

    assert CheckFlag.IDENTITY_DIFFERS_FROM_VERIFIED in flags
    assert kyc_level(engine, player) == 2


def test_a_decision_is_applied_once_however_often_it_is_retried(engine: Engine) -> None:
    player, officer = make_user(engine), make_user(engine, Role.COMPLIANCE)
    intake = submit(engine, player, sanctioned_claim())
    checks(engine, intake.submission_id)
    await_review(engine, intake.review_id, now=now())
    decision = KycDecision(
        uuid.uuid4(), intake.review_id, DecisionKind.REJECT, officer, "compliance", "no", None
    )

    first = apply_decision(engine, decision, now=now())
    retried = apply_decision(engine, decision, now=now())

    assert first == retried
    assert first.status is ReviewStatus.REJECTED
    with pytest.raises(KycReviewNotAwaitingDecision):
        apply_decision(engine, dataclasses.replace(decision, decision_id=uuid.uuid4()), now=now())
    with engine.connect() as conn:
        latest = player_kyc(conn, player).latest_review
    assert latest is not None and latest.status is ReviewStatus.REJECTED
