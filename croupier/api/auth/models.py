"""Request and response bodies of the auth routes, with the examples /docs shows.

Field limits here only bound what is parsed; the rules (password policy, email form)
live in ``croupier.identity`` and answer with one clear message per broken rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from croupier.api.problems import Problem
from croupier.identity.roles import Role
from croupier.identity.service import IssuedTokens, TotpEnrolment, User

# Problem bodies each route documents in OpenAPI, by status.
PROBLEM_STATUSES = {
    400: "bad request",
    401: "missing, wrong, expired or revoked credentials",
    403: "the caller's role may not use this route",
    404: "no such entity",
    409: "conflicts with the current state",
    422: "the request body or parameters are invalid",
    429: "rate limited; see Retry-After",
}

MAX_EMAIL_INPUT_CHARS = 320
MAX_PASSWORD_INPUT_CHARS = 1024
MAX_REFRESH_TOKEN_INPUT_CHARS = 256

Email = Annotated[str, Field(min_length=1, max_length=MAX_EMAIL_INPUT_CHARS)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_INPUT_CHARS)]
TotpCode = Annotated[
    str, Field(pattern=r"^[0-9]{6}$", description="the 6 digits the authenticator app shows")
]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ann@example.com", "password": "correct horse battery"}]
        },
    )

    email: Email
    password: Password


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "ann@example.com", "password": "correct horse battery"},
                {
                    "email": "sam@example.com",
                    "password": "staff password here",
                    "totp_code": "492039",
                },
            ]
        },
    )

    email: Email
    password: Password
    totp_code: TotpCode | None = Field(
        default=None, description="required once the account has TOTP enabled"
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"refresh_token": "mJ0u8o4sVvI4p9yq0xq8m2g8Q2fQW0pYgkq4h1bQk6E"}]
        },
    )

    refresh_token: str = Field(min_length=1, max_length=MAX_REFRESH_TOKEN_INPUT_CHARS)


class TotpConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "492039"}]})

    code: TotpCode


class RoleChangeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"role": "compliance"}]}
    )

    role: Role


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth 2 token type)
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str
    refresh_expires_in: int = Field(description="seconds until the refresh token expires")
    totp_enrolment_required: bool = Field(
        description="a staff account without TOTP: this token only reaches /me and enrolment"
    )

    @classmethod
    def of(cls, tokens: IssuedTokens) -> TokenResponse:
        issued_at = tokens.access_claims.issued_at
        return cls(
            access_token=tokens.access_token,
            expires_in=int((tokens.access_claims.expires_at - issued_at).total_seconds()),
            refresh_token=tokens.refresh_token,
            refresh_expires_in=int((tokens.refresh_expires_at - issued_at).total_seconds()),
            totp_enrolment_required=tokens.totp_enrolment_required,
        )


class UserResponse(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    totp_enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserResponse:
        return cls(
            id=user.id,
            email=user.email,
            role=user.role,
            totp_enabled=user.totp_enabled,
            created_at=user.created_at,
        )


class TotpSetupResponse(BaseModel):
    secret: str = Field(description="base32, for typing into an app by hand")
    provisioning_uri: str = Field(description="otpauth:// URI, usually shown as a QR code")

    @classmethod
    def of(cls, enrolment: TotpEnrolment) -> TotpSetupResponse:
        return cls(secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem bodies a route can answer with."""
    return {
        status: {"model": Problem, "description": PROBLEM_STATUSES[status]} for status in statuses
    }
