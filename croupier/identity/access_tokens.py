"""Access tokens: short-lived HS256 JWTs carrying who the caller is and how they logged in.

Claims: ``sub`` (user id), ``role``, ``iat``, ``exp``, ``jti``, plus ``sid`` (the login
session, i.e. the refresh-token family, so logout and reuse detection end the access
token too) and ``amr`` (RFC 8176 methods: ``pwd``, and ``otp`` when TOTP was given).

Time comes from the injected clock, never from PyJWT's own ``now``: expiry is then
testable, and every check uses one notion of time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from croupier.core.clock import Clock
from croupier.identity.errors import InvalidToken, TokenExpired
from croupier.identity.roles import Role

ALGORITHM = "HS256"
# Longer than any token we mint; refuse larger input before parsing it.
MAX_TOKEN_CHARS = 2048
_REQUIRED_CLAIMS = ["sub", "role", "iat", "exp", "jti", "sid", "amr"]
_KNOWN_METHODS = frozenset({"pwd", "otp"})


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    role: Role
    session_id: uuid.UUID
    token_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    used_totp: bool


class AccessTokens:
    """Mints and verifies access tokens with one secret and one lifetime."""

    def __init__(self, secret: str, ttl: timedelta, clock: Clock) -> None:
        assert len(secret) >= 32, "HS256 needs at least a 256-bit secret"
        assert ttl > timedelta(0)
        self._secret = secret
        self._ttl = ttl
        self._clock = clock

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def mint(
        self, user_id: uuid.UUID, role: Role, session_id: uuid.UUID, *, used_totp: bool
    ) -> tuple[str, AccessClaims]:
        issued_at = self._clock.now().replace(microsecond=0)
        claims = AccessClaims(
            user_id=user_id,
            role=role,
            session_id=session_id,
            token_id=uuid.uuid4(),
            issued_at=issued_at,
            expires_at=issued_at + self._ttl,
            used_totp=used_totp,
        )
        payload = {
            "sub": str(user_id),
            "role": role.value,
            "iat": int(claims.issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "jti": str(claims.token_id),
            "sid": str(session_id),
            "amr": ["pwd", "otp"] if used_totp else ["pwd"],
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def verify(self, token: str) -> AccessClaims:
        """The token's claims, or ``InvalidToken`` / ``TokenExpired``; never anything else."""
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("bearer token is too long to be one of ours")
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidTokenError:
            raise InvalidToken(
                "bearer token is malformed or its signature does not match"
            ) from None
        claims = _parse_claims(payload)
        if self._clock.now() >= claims.expires_at:
            raise TokenExpired("access token has expired; use the refresh token for a new one")
        return claims


def _parse_claims(payload: dict[str, Any]) -> AccessClaims:
    """Typed claims from a signature-checked payload; a wrong shape is still ``InvalidToken``."""
    try:
        amr = payload["amr"]
        if not isinstance(amr, list) or not set(amr) <= _KNOWN_METHODS or "pwd" not in amr:
            raise ValueError("amr")
        issued_at, expires_at = payload["iat"], payload["exp"]
        if not isinstance(issued_at, int) or not isinstance(expires_at, int):
            raise ValueError("iat/exp")
        return AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            role=Role(payload["role"]),
            session_id=uuid.UUID(payload["sid"]),
            token_id=uuid.UUID(payload["jti"]),
            issued_at=datetime.fromtimestamp(issued_at, tz=UTC),
            expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
            used_totp="otp" in amr,
        )
    except (ValueError, TypeError, AttributeError):
        raise InvalidToken("bearer token claims are not the ones Croupier issues") from None
