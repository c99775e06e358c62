"""``/auth``: register, log in, refresh, log out, enrol TOTP.

Handlers are plain ``def``: argon2 and the database are blocking, and FastAPI runs such
handlers in its thread pool, off the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from croupier.api.auth.models import (
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
    TotpConfirmRequest,
    TotpSetupResponse,
    UserResponse,
    problem_responses,
)
from croupier.api.auth.runtime import AuthRuntime, Identity, auth_runtime, rate_limiter
from croupier.api.ratelimit import RateLimiter, client_ip
from croupier.api.rbac import Claims
from croupier.identity.emails import login_form

router = APIRouter(prefix="/auth", tags=["auth"])

Limiter = Annotated[RateLimiter, Depends(rate_limiter)]
Runtime = Annotated[AuthRuntime, Depends(auth_runtime)]


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserResponse,
    responses=problem_responses(409, 422, 429),
)
def register(
    body: RegisterRequest, request: Request, identity: Identity, limiter: Limiter, runtime: Runtime
) -> UserResponse:
    """Create a player account. Log in afterwards for tokens."""
    limiter.hit(runtime.registrations_per_ip, client_ip(request))
    return UserResponse.of(identity.register(body.email, body.password))


@router.post("/login", response_model=TokenResponse, responses=problem_responses(401, 422, 429))
def login(
    body: LoginRequest, request: Request, identity: Identity, limiter: Limiter, runtime: Runtime
) -> TokenResponse:
    """Trade email, password (and the TOTP code, once enabled) for an access and a refresh token.

    A wrong password and an unknown email answer alike. Staff without TOTP get a token
    that reaches only /me and TOTP enrolment (``totp_enrolment_required``).
    """
    limiter.hit(runtime.login_per_ip, client_ip(request))
    limiter.hit(runtime.login_per_account, login_form(body.email))
    return TokenResponse.of(identity.login(body.email, body.password, body.totp_code))


@router.post("/refresh", response_model=TokenResponse, responses=problem_responses(401, 422))
def refresh(body: RefreshRequest, identity: Identity) -> TokenResponse:
    """Rotate a refresh token: the old one stops working, and using it again ends the session."""
    return TokenResponse.of(identity.refresh(body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401))
def logout(claims: Claims, identity: Identity) -> Response:
    """End this login session: its refresh token and access tokens stop working."""
    identity.logout(claims.session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/totp/setup", response_model=TotpSetupResponse, responses=problem_responses(401, 409))
def totp_setup(claims: Claims, identity: Identity) -> TotpSetupResponse:
    """Start TOTP enrolment: a new secret, pending until a code from it is confirmed."""
    return TotpSetupResponse.of(identity.begin_totp_setup(claims.user_id))


@router.post(
    "/totp/confirm", response_model=UserResponse, responses=problem_responses(401, 409, 422, 429)
)
def totp_confirm(
    body: TotpConfirmRequest, claims: Claims, identity: Identity, limiter: Limiter, runtime: Runtime
) -> UserResponse:
    """Enable TOTP with a code from the pending secret. Log in again (with a code) for a
    session that staff routes accept."""
    limiter.hit(runtime.login_per_account, f"totp-confirm:{claims.user_id}")
    return UserResponse.of(identity.confirm_totp(claims.user_id, body.code))
