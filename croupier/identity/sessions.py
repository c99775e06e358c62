"""Login sessions and their rotating refresh tokens (one session = one token family).

A refresh token is 256 random bits, shown to the client once and stored only as its
sha256. Each use rotates it: the presented token is marked rotated and a new one is
issued in the same session. A rotated token presented again means two parties hold
the family (the classic sign of theft), so the whole session is revoked; the access
tokens of the session die with it, because each carries the session id and every
request checks the session is alive.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import Connection, insert, select, update

from croupier.identity.errors import (
    InvalidToken,
    RefreshTokenReused,
    SessionRevoked,
    TokenExpired,
)
from croupier.identity.roles import Role
from croupier.identity.tables import login_sessions, refresh_tokens, users

log = structlog.get_logger(__name__)

REFRESH_TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything much longer is not ours.
MAX_REFRESH_TOKEN_CHARS = 64


class RevokedBecause(StrEnum):
    LOGOUT = "logout"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105 (a reason, not a secret)
    ROLE_CHANGED = "role_changed"


@dataclass(frozen=True, slots=True)
class RefreshToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LiveSession:
    """What a rotation learns about the session it continues."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    used_totp: bool


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def open_session(
    conn: Connection, user_id: uuid.UUID, *, used_totp: bool, now: datetime, ttl: timedelta
) -> tuple[uuid.UUID, RefreshToken]:
    session_id = uuid.uuid4()
    conn.execute(
        insert(login_sessions).values(
            id=session_id, user_id=user_id, used_totp=used_totp, created_at=now
        )
    )
    return session_id, _issue(conn, session_id, now=now, ttl=ttl)


def _issue(
    conn: Connection, session_id: uuid.UUID, *, now: datetime, ttl: timedelta
) -> RefreshToken:
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    expires_at = now + ttl
    conn.execute(
        insert(refresh_tokens).values(
            token_hash=token_hash(token),
            session_id=session_id,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    return RefreshToken(token=token, expires_at=expires_at)


def rotate(
    conn: Connection, token: str, *, now: datetime, ttl: timedelta
) -> tuple[LiveSession, RefreshToken] | RefreshTokenReused:
    """Trade ``token`` for a new one in the same session.

    A reused token revokes the session and is *returned*, not raised: the revocation
    must commit, so the caller raises it after the transaction ends.
    """
    if len(token) > MAX_REFRESH_TOKEN_CHARS:
        raise InvalidToken("refresh token is not recognised")
    row = conn.execute(
        select(
            refresh_tokens.c.expires_at,
            refresh_tokens.c.rotated_at,
            login_sessions.c.id,
            login_sessions.c.user_id,
            login_sessions.c.used_totp,
            login_sessions.c.revoked_at,
            users.c.role,
        )
        .join(login_sessions, login_sessions.c.id == refresh_tokens.c.session_id)
        .join(users, users.c.id == login_sessions.c.user_id)
        .where(refresh_tokens.c.token_hash == token_hash(token))
        # Locking the session serialises every rotation within one family.
        .with_for_update(of=[refresh_tokens, login_sessions])
    ).one_or_none()
    if row is None:
        raise InvalidToken("refresh token is not recognised")
    if row.revoked_at is not None:
        raise SessionRevoked("this login session has ended; log in again")
    if row.rotated_at is not None:
        revoke(conn, row.id, RevokedBecause.REFRESH_TOKEN_REUSED, now=now)
        log.warning("refresh_token_reused", session_id=str(row.id), user_id=str(row.user_id))
        return RefreshTokenReused(
            "refresh token was already used; the whole login session is now revoked, log in again"
        )
    if now >= row.expires_at:
        raise TokenExpired("refresh token has expired; log in again")
    conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.token_hash == token_hash(token))
        .values(rotated_at=now)
    )
    session = LiveSession(
        session_id=row.id, user_id=row.user_id, role=Role(row.role), used_totp=row.used_totp
    )
    return session, _issue(conn, row.id, now=now, ttl=ttl)


def revoke(
    conn: Connection, session_id: uuid.UUID, reason: RevokedBecause, *, now: datetime
) -> None:
    """End one session; revoking an ended session keeps its first reason."""
    conn.execute(
        update(login_sessions)
        .where(login_sessions.c.id == session_id, login_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason.value)
    )


def revoke_all(
    conn: Connection, user_id: uuid.UUID, reason: RevokedBecause, *, now: datetime
) -> None:
    """End every live session of a user."""
    conn.execute(
        update(login_sessions)
        .where(login_sessions.c.user_id == user_id, login_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason.value)
    )


def check_alive(conn: Connection, session_id: uuid.UUID, user_id: uuid.UUID, role: Role) -> None:
    """Raise ``SessionRevoked`` unless the session is live and the user still has ``role``.

    Role changes revoke sessions, so a mismatch should not happen; it is still refused,
    because a token must never carry more rights than its user holds now.
    """
    row = conn.execute(
        select(login_sessions.c.revoked_at, users.c.role)
        .join(users, users.c.id == login_sessions.c.user_id)
        .where(login_sessions.c.id == session_id, login_sessions.c.user_id == user_id)
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        raise SessionRevoked("this login session has ended; log in again")
    if row.role != role.value:
        raise SessionRevoked("your role has changed; log in again")
