"""Access tokens verify only when untouched, signed by us and unexpired by our clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from croupier.core.clock import ManualClock
from croupier.identity.access_tokens import AccessTokens
from croupier.identity.errors import InvalidToken, TokenExpired
from croupier.identity.roles import Role

SECRET = "unit-test-secret-" + "0123456789" * 5
START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def tokens(clock: ManualClock) -> AccessTokens:
    return AccessTokens(SECRET, timedelta(minutes=15), clock)


def test_a_minted_token_verifies_to_the_same_claims(tokens: AccessTokens) -> None:
    user_id, session_id = uuid.uuid4(), uuid.uuid4()

    token, minted = tokens.mint(user_id, Role.COMPLIANCE, session_id, used_totp=True)

    assert tokens.verify(token) == minted
    assert minted.user_id == user_id
    assert minted.session_id == session_id
    assert minted.expires_at == START + timedelta(minutes=15)
    assert minted.used_totp


def test_expiry_is_judged_by_the_injected_clock(tokens: AccessTokens, clock: ManualClock) -> None:
    token, _ = tokens.mint(uuid.uuid4(), Role.PLAYER, uuid.uuid4(), used_totp=False)

    clock.advance(timedelta(minutes=15))

    with pytest.raises(TokenExpired):
        tokens.verify(token)


def test_every_token_id_is_new(tokens: AccessTokens) -> None:
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    ids = {
        tokens.mint(user_id, Role.PLAYER, session_id, used_totp=False)[1].token_id
        for _ in range(50)
    }
    assert len(ids) == 50


def _claims(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "sub": str(uuid.uuid4()),
        "role": "player",
        "iat": int(START.timestamp()),
        "exp": int((START + timedelta(minutes=15)).timestamp()),
        "jti": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "amr": ["pwd"],
    }
    return {key: value for key, value in (base | changes).items() if value is not None}


@pytest.mark.parametrize(
    "payload",
    [
        _claims(role="croupier"),
        _claims(sub="not-a-uuid"),
        _claims(amr=["otp"]),
        _claims(amr="pwd"),
        _claims(exp="soon"),
        _claims(sid=None),
        _claims(jti=None),
    ],
)
def test_well_signed_tokens_with_foreign_claims_are_invalid(
    tokens: AccessTokens, payload: dict[str, object]
) -> None:
    with pytest.raises(InvalidToken):
        tokens.verify(jwt.encode(payload, SECRET, algorithm="HS256"))


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_our_secret(
    tokens: AccessTokens, algorithm: str
) -> None:
    with pytest.raises(InvalidToken):
        tokens.verify(jwt.encode(_claims(), SECRET, algorithm=algorithm))
