"""Claiming bonuses against the real database: one welcome bonus per person, one open
bonus at a time, a cooldown between claims, idempotent claims."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from croupier.bonus.claims import ClaimRequest, claim_bonus
from croupier.bonus.deposits import QualifyingDeposit
from croupier.bonus.errors import BonusAlreadyOpen, BonusClaimCooldown, WelcomeBonusTaken
from croupier.bonus.lifecycle import Ending, activate, finish
from croupier.bonus.offers import offer_named
from croupier.bonus.records import BonusStatus
from croupier.core.errors import IdempotencyConflict
from croupier.core.money import Currency
from croupier.identity.roles import Role
from tests.integration.compliance.people import claim, make_user, submit
from tests.integration.compliance.test_kyc_records import approve, checks

WELCOME = offer_named("welcome-match")
FREE_BET = offer_named("free-bet")
WEIGHTS = {"dice": 100}


def _request(user_id: uuid.UUID, offer: str = "welcome-match", **overrides: object) -> ClaimRequest:
    fields: dict[str, object] = {
        "bonus_id": uuid.uuid4(),
        "user_id": user_id,
        "offer": offer_named(offer),
        "currency": Currency.ETH,
        "claimed_at": datetime.now(UTC),
        "cooldown": timedelta(0),
        "game_weights": WEIGHTS,
    }
    fields.update(overrides)
    return ClaimRequest(**fields)  # type: ignore[arg-type]


def _verified(engine: Engine, identity: object, officer: uuid.UUID) -> uuid.UUID:
    player = make_user(engine)
    intake = submit(engine, player, identity)  # type: ignore[arg-type]
    checks(engine, intake.submission_id)
    approve(engine, intake.review_id, officer, 1)
    return player


def test_a_welcome_bonus_is_refused_to_a_second_account_of_the_same_verified_person(
    engine: Engine,
) -> None:
    officer = make_user(engine, Role.COMPLIANCE)
    person = claim()
    first = _verified(engine, person, officer)
    second = _verified(engine, person, officer)
    claim_bonus(engine, _request(first))

    with pytest.raises(WelcomeBonusTaken, match="verified identity"):
        claim_bonus(engine, _request(second))
    # Not a welcome offer: the same person may still take it.
    assert claim_bonus(engine, _request(second, "free-bet")).status is BonusStatus.PENDING


def test_a_welcome_bonus_is_refused_on_a_device_that_already_claimed_one(engine: Engine) -> None:
    device = f"fp-{uuid.uuid4().hex}"
    claim_bonus(engine, _request(uuid.uuid4(), device_fingerprint=device))

    with pytest.raises(WelcomeBonusTaken, match="device"):
        claim_bonus(engine, _request(uuid.uuid4(), device_fingerprint=device))


def test_a_welcome_match_is_refused_for_a_deposit_from_an_address_another_welcome_used(
    engine: Engine,
) -> None:
    address = f"0x{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    first = claim_bonus(engine, _request(uuid.uuid4()))
    second = claim_bonus(engine, _request(uuid.uuid4()))
    deposit = QualifyingDeposit(f"deposit-eth-{uuid.uuid4().hex}-0", 10**17, address)
    granted = activate(engine, first.id, now=now, deposit=deposit)

    with pytest.raises(WelcomeBonusTaken, match="address"):
        activate(engine, second.id, now=now, deposit=QualifyingDeposit("d-2", 10**17, address))
    # 100% of 0.1 ETH, under the 1 ETH cap; 30x to wager.
    assert (granted.status, granted.amount) == (BonusStatus.ACTIVE, 10**17)
    assert granted.wagering_required == 30 * 10**17
    assert finish(engine, second.id, Ending.FORFEITED, now=now).status is BonusStatus.FORFEITED


def test_a_deposit_qualifies_one_match_whichever_way_it_arrives(engine: Engine) -> None:
    now = datetime.now(UTC)
    first = claim_bonus(engine, _request(uuid.uuid4()))
    second = claim_bonus(engine, _request(uuid.uuid4()))
    deposit = QualifyingDeposit(f"deposit-eth-{uuid.uuid4().hex}-0", 10**17, None)
    granted = activate(engine, first.id, now=now, deposit=deposit)

    again = activate(
        engine, first.id, now=now, deposit=QualifyingDeposit(deposit.deposit_id, 10**18, None)
    )
    taken = activate(engine, second.id, now=now, deposit=deposit)
    other = QualifyingDeposit(f"deposit-eth-{uuid.uuid4().hex}-0", 2 * 10**17, None)
    later = activate(engine, second.id, now=now, deposit=other)

    assert (granted.amount, granted.deposit_id) == (10**17, deposit.deposit_id)
    assert again == granted
    assert (taken.status, taken.deposit_id) == (BonusStatus.PENDING, None)
    assert (later.status, later.amount, later.deposit_id) == (
        BonusStatus.ACTIVE,
        2 * 10**17,
        other.deposit_id,
    )


def test_a_deposit_below_the_minimum_does_not_qualify(engine: Engine) -> None:
    pending = claim_bonus(engine, _request(uuid.uuid4()))
    small = QualifyingDeposit("deposit-small", 10**16 - 1, None)

    assert activate(engine, pending.id, now=datetime.now(UTC), deposit=small).status is (
        BonusStatus.PENDING
    )


def test_one_open_bonus_at_a_time_and_a_cooldown_between_claims(engine: Engine) -> None:
    player = uuid.uuid4()
    first = claim_bonus(engine, _request(player, "free-bet"))
    with pytest.raises(BonusAlreadyOpen):
        claim_bonus(engine, _request(player, "free-bet"))
    finish(engine, first.id, Ending.FORFEITED, now=datetime.now(UTC))

    with pytest.raises(BonusClaimCooldown):
        claim_bonus(engine, _request(player, "free-bet", cooldown=timedelta(hours=1)))
    later = first.claimed_at + timedelta(hours=1, seconds=1)
    assert (
        claim_bonus(
            engine, _request(player, "free-bet", cooldown=timedelta(hours=1), claimed_at=later)
        ).status
        is BonusStatus.PENDING
    )


def test_a_claim_is_idempotent_by_its_id(engine: Engine) -> None:
    request = _request(uuid.uuid4(), "free-bet")
    first = claim_bonus(engine, request)

    assert claim_bonus(engine, request) == first
    with pytest.raises(IdempotencyConflict):
        claim_bonus(engine, _request(uuid.uuid4(), "free-bet", bonus_id=request.bonus_id))
