"""Players, staff and KYC submissions for compliance tests, written straight to the
database the way the API and ``croupier users create-staff`` write them."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from croupier.compliance.kyc import DocumentType, IdentityClaim
from croupier.compliance.reviews import Intake, take_submission
from croupier.core.clock import SystemClock
from croupier.identity.passwords import HashingCost, Passwords
from croupier.identity.roles import Role
from croupier.identity.service import create_user

# argon2's cheapest allowed cost: these users never log in.
_PASSWORDS = Passwords(HashingCost(time_cost=1, memory_kib=8192, parallelism=1))
# On the sample sanctions list (croupier/compliance/data/sanctions-sample.csv).
SANCTIONED_NAME = ("Tobiah", "Quillmarsh", date(1974, 11, 2))


def make_user(engine: Engine, role: Role = Role.PLAYER) -> uuid.UUID:
    email = f"compliance-{uuid.uuid4().hex[:12]}@example.com"
    user = create_user(engine, SystemClock(), _PASSWORDS, email, "correct horse battery", role)
    return user.id


def unique_letters() -> str:
    """Eight letters no other test uses, so no two players look like one person."""
    return "".join(chr(ord("a") + int(digit, 16)) for digit in uuid.uuid4().hex[:8])


def claim(**overrides: Any) -> IdentityClaim:
    """A clean adult's claim with a name and document number of its own."""
    letters = unique_letters()
    clean = IdentityClaim(
        given_names="Ann",
        family_name=f"Tester {letters.capitalize()}",
        date_of_birth=date(1990, 4, 1),
        nationality="DE",
        document_type=DocumentType.PASSPORT,
        document_number=f"P{uuid.uuid4().hex[:10].upper()}",
        document_country="DE",
        document_expires_on=date(2099, 1, 1),
    )
    return dataclasses.replace(clean, **overrides)


def sanctioned_claim() -> IdentityClaim:
    given, family, born = SANCTIONED_NAME
    return claim(given_names=given, family_name=family, date_of_birth=born)


def submit(
    engine: Engine, user_id: uuid.UUID, identity: IdentityClaim, requested_level: int = 1
) -> Intake:
    return take_submission(
        engine,
        user_id=user_id,
        claim=identity,
        requested_level=requested_level,
        documents=[],
        now=datetime.now(UTC),
    )
