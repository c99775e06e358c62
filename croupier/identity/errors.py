"""Identity errors. Each subclasses a core error, so the API maps it to 401/403/409/422 once.

Wrong password and unknown email share ``InvalidCredentials`` and one message, so a
login attempt never tells whether an address has an account.
"""

from __future__ import annotations

from croupier.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)


class InvalidEmail(InvalidInput):
    code = "invalid_email"


class WeakPassword(InvalidInput):
    code = "weak_password"


class EmailAlreadyRegistered(Conflict):
    code = "email_already_registered"


class UserNotFound(NotFound):
    code = "user_not_found"


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"


class TotpRequired(Unauthenticated):
    """The password was right, and the account has TOTP on: the code is missing."""

    code = "totp_required"


class InvalidTotpCode(Unauthenticated):
    code = "invalid_totp_code"


class InvalidToken(Unauthenticated):
    """A bearer or refresh token that is malformed, tampered with, or unknown."""

    code = "invalid_token"


class TokenExpired(Unauthenticated):
    code = "token_expired"


class SessionRevoked(Unauthenticated):
    """The login session behind a token was ended (logout, role change, token reuse)."""

    code = "session_revoked"


class RefreshTokenReused(Unauthenticated):
    """A refresh token was presented after it had already been rotated: likely stolen."""

    code = "refresh_token_reused"


class TotpAlreadyEnabled(Conflict):
    code = "totp_already_enabled"


class TotpSetupNotStarted(Conflict):
    code = "totp_setup_not_started"


class CannotChangeOwnRole(Conflict):
    code = "cannot_change_own_role"


class TotpRequiredForStaff(PermissionDenied):
    """A staff account without TOTP (or a session opened without it) on a staff route."""

    code = "totp_required_for_staff"
