"""The identity use cases: register, log in, refresh, log out, TOTP enrolment, role changes.

Slow work (argon2) runs outside database transactions, so a burst of logins never
holds connections while hashing. Every write that must be atomic (a TOTP step and
the session it opens; a role and the sessions it revokes) shares one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from croupier.core.clock import Clock
from croupier.identity import sessions, totp
from croupier.identity.access_tokens import AccessClaims, AccessTokens
from croupier.identity.emails import login_form, normalise_email
from croupier.identity.errors import (
    CannotChangeOwnRole,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidTotpCode,
    RefreshTokenReused,
    TotpAlreadyEnabled,
    TotpRequired,
    TotpSetupNotStarted,
    UserNotFound,
)
from croupier.identity.passwords import Passwords, check_password_policy
from croupier.identity.roles import Role
from croupier.identity.sessions import RevokedBecause
from croupier.identity.tables import users
from croupier.identity.totp_sealing import TotpSealer, is_sealed

WRONG_CREDENTIALS = "email or password is incorrect"


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    email: str
    role: Role
    totp_enabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    access_claims: AccessClaims
    refresh_token: str
    refresh_expires_at: datetime

    @property
    def totp_enrolment_required(self) -> bool:
        """Staff without TOTP get a token good only for enrolling it."""
        return self.access_claims.role.is_staff and not self.access_claims.used_totp


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    provisioning_uri: str


class IdentityService:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        passwords: Passwords,
        access_tokens: AccessTokens,
        *,
        refresh_ttl: timedelta,
        totp_issuer: str,
        totp_sealer: TotpSealer,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._passwords = passwords
        self._access_tokens = access_tokens
        self._refresh_ttl = refresh_ttl
        self._totp_issuer = totp_issuer
        self._totp_sealer = totp_sealer

    # --- accounts -------------------------------------------------------------------

    def register(self, email: str, password: str) -> User:
        """A new player account; staff accounts come from ``croupier users create-staff``."""
        return create_user(self._engine, self._clock, self._passwords, email, password, Role.PLAYER)

    def get_user(self, user_id: uuid.UUID) -> User:
        return _user(self._user_row(user_id))

    def change_role(self, actor_id: uuid.UUID, user_id: uuid.UUID, role: Role) -> User:
        """Give a user a new role and end their sessions, so no token keeps the old one."""
        if actor_id == user_id:
            raise CannotChangeOwnRole("admins cannot change their own role; ask another admin")
        now = self._clock.now()
        with self._engine.begin() as conn:
            row = conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(role=role.value, updated_at=now)
                .returning(*users.c)
            ).one_or_none()
            if row is None:
                raise UserNotFound(f"no user with id {user_id}")
            sessions.revoke_all(conn, user_id, RevokedBecause.ROLE_CHANGED, now=now)
        return _user(row)

    # --- tokens ---------------------------------------------------------------------

    def login(self, email: str, password: str, totp_code: str | None) -> IssuedTokens:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(users).where(users.c.email == login_form(email))
            ).one_or_none()
        if row is None:
            self._passwords.burn_verify_time(password)
            raise InvalidCredentials(WRONG_CREDENTIALS)
        if not self._passwords.verify(row.password_hash, password):
            raise InvalidCredentials(WRONG_CREDENTIALS)
        rehashed = (
            self._passwords.hash(password)
            if self._passwords.needs_rehash(row.password_hash)
            else None
        )
        now = self._clock.now()
        step = self._totp_step(row, totp_code, now)
        with self._engine.begin() as conn:
            if step is not None:
                _consume_totp_step(conn, row.id, step)
                if not is_sealed(row.totp_secret):
                    self._seal_stored_secret(conn, row.id, row.totp_secret)
            if rehashed is not None:
                conn.execute(
                    update(users).where(users.c.id == row.id).values(password_hash=rehashed)
                )
            session_id, refresh = sessions.open_session(
                conn, row.id, used_totp=step is not None, now=now, ttl=self._refresh_ttl
            )
        return self._issue(row.id, Role(row.role), session_id, step is not None, refresh)

    def refresh(self, refresh_token: str) -> IssuedTokens:
        now = self._clock.now()
        with self._engine.begin() as conn:
            rotated = sessions.rotate(conn, refresh_token, now=now, ttl=self._refresh_ttl)
        if isinstance(rotated, RefreshTokenReused):
            raise rotated
        live, refresh = rotated
        return self._issue(live.user_id, live.role, live.session_id, live.used_totp, refresh)

    def logout(self, session_id: uuid.UUID) -> None:
        with self._engine.begin() as conn:
            sessions.revoke(conn, session_id, RevokedBecause.LOGOUT, now=self._clock.now())

    def authenticate(self, access_token: str) -> AccessClaims:
        """Claims of a valid, unexpired token whose session is still live."""
        claims = self._access_tokens.verify(access_token)
        with self._engine.connect() as conn:
            sessions.check_alive(conn, claims.session_id, claims.user_id, claims.role)
        return claims

    # --- TOTP -----------------------------------------------------------------------

    def begin_totp_setup(self, user_id: uuid.UUID) -> TotpEnrolment:
        """A new pending secret; it replaces any earlier unconfirmed one."""
        secret = totp.new_secret()
        with self._engine.begin() as conn:
            row = conn.execute(
                update(users)
                .where(users.c.id == user_id, users.c.totp_secret.is_(None))
                .values(
                    totp_pending_secret=self._totp_sealer.seal(user_id, secret),
                    updated_at=self._clock.now(),
                )
                .returning(users.c.email)
            ).one_or_none()
        if row is None:
            self._user_row(user_id)  # an unknown user is UserNotFound, not a conflict
            raise TotpAlreadyEnabled("TOTP is already enabled for this account")
        uri = totp.provisioning_uri(secret, account=row.email, issuer=self._totp_issuer)
        return TotpEnrolment(secret=secret, provisioning_uri=uri)

    def confirm_totp(self, user_id: uuid.UUID, code: str) -> User:
        """Turn the pending secret on, once a code from it proves the app holds it."""
        user = self._user_row(user_id)
        if user.totp_secret is not None:
            raise TotpAlreadyEnabled("TOTP is already enabled for this account")
        pending = user.totp_pending_secret
        if pending is None:
            raise TotpSetupNotStarted("start with POST /auth/totp/setup, then confirm a code")
        now = self._clock.now()
        step = totp.matching_step(self._totp_sealer.unseal(user_id, pending), code, now)
        if step is None:
            raise InvalidTotpCode("TOTP code is wrong; check the authenticator's clock")
        with self._engine.begin() as conn:
            row = conn.execute(
                update(users)
                .where(
                    users.c.id == user_id,
                    users.c.totp_secret.is_(None),
                    users.c.totp_pending_secret == pending,
                )
                .values(
                    totp_secret=self._totp_sealer.sealed(user_id, pending),
                    totp_pending_secret=None,
                    totp_last_step=step,
                    updated_at=now,
                )
                .returning(*users.c)
            ).one_or_none()
        if row is None:
            raise TotpSetupNotStarted("TOTP setup changed meanwhile; start again")
        return _user(row)

    # --- helpers --------------------------------------------------------------------

    def _issue(
        self,
        user_id: uuid.UUID,
        role: Role,
        session_id: uuid.UUID,
        used_totp: bool,
        refresh: sessions.RefreshToken,
    ) -> IssuedTokens:
        token, claims = self._access_tokens.mint(user_id, role, session_id, used_totp=used_totp)
        return IssuedTokens(
            access_token=token,
            access_claims=claims,
            refresh_token=refresh.token,
            refresh_expires_at=refresh.expires_at,
        )

    def _totp_step(self, row: Row[Any], totp_code: str | None, now: datetime) -> int | None:
        """The matched step when the account has TOTP; ``None`` when it has none."""
        if row.totp_secret is None:
            return None
        if totp_code is None:
            raise TotpRequired("this account uses TOTP: send totp_code with the password")
        step = totp.matching_step(self._totp_sealer.unseal(row.id, row.totp_secret), totp_code, now)
        if step is None:
            raise InvalidTotpCode("TOTP code is wrong or already used")
        return step

    def _seal_stored_secret(self, conn: Connection, user_id: uuid.UUID, stored: str) -> None:
        """Seal a secret stored before secrets were sealed (unless it changed meanwhile)."""
        conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.totp_secret == stored)
            .values(totp_secret=self._totp_sealer.seal(user_id, stored))
        )

    def _user_row(self, user_id: uuid.UUID) -> Row[Any]:
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).one_or_none()
        if row is None:
            raise UserNotFound(f"no user with id {user_id}")
        return row


def create_user(
    engine: Engine, clock: Clock, passwords: Passwords, email: str, password: str, role: Role
) -> User:
    """Check, hash and store a new account; the one way users come into existence."""
    email = normalise_email(email)
    check_password_policy(password, email)
    password_hash = passwords.hash(password)
    now = clock.now()
    user_id = uuid.uuid4()
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(users).values(
                    id=user_id,
                    email=email,
                    password_hash=password_hash,
                    role=role.value,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError as error:
        if _violated_constraint(error) == "uq_users_email":
            raise EmailAlreadyRegistered(f"{email} already has an account") from None
        raise
    return User(id=user_id, email=email, role=role, totp_enabled=False, created_at=now)


def _consume_totp_step(conn: Connection, user_id: uuid.UUID, step: int) -> None:
    """Record ``step`` as used, refusing a code from a step already used (a replay)."""
    result = conn.execute(
        update(users)
        .where(
            users.c.id == user_id,
            or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    if result.rowcount != 1:
        raise InvalidTotpCode("TOTP code is wrong or already used")


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        role=Role(row.role),
        totp_enabled=row.totp_secret is not None,
        created_at=row.created_at,
    )


def _violated_constraint(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)
