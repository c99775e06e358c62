"""What auth needs for the life of the app, built once from settings, and its dependencies.

Built in ``create_app`` (no I/O but the dev secret file), while the engine arrives with
the lifespan; the services below join the two per request, which costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from croupier.api.auth.secret import jwt_secret
from croupier.api.ratelimit import RateLimiter, RateRule
from croupier.api.state import app_state
from croupier.core.clock import Clock
from croupier.core.settings import Settings
from croupier.identity.access_tokens import AccessTokens
from croupier.identity.passwords import HashingCost, Passwords
from croupier.identity.service import IdentityService
from croupier.identity.totp_sealing import TotpSealer, totp_sealer_from_settings


@dataclass(frozen=True, slots=True)
class AuthRuntime:
    clock: Clock
    passwords: Passwords
    access_tokens: AccessTokens
    refresh_ttl: timedelta
    totp_issuer: str
    totp_sealer: TotpSealer
    login_per_ip: RateRule
    login_per_account: RateRule
    registrations_per_ip: RateRule
    idempotency_ttl: timedelta
    idempotency_lock_timeout: timedelta

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> AuthRuntime:
        login_window = timedelta(seconds=settings.login_window_s)
        return cls(
            clock=clock,
            passwords=Passwords(
                HashingCost(
                    time_cost=settings.password_hash_time_cost,
                    memory_kib=settings.password_hash_memory_kib,
                )
            ),
            access_tokens=AccessTokens(
                jwt_secret(settings), timedelta(seconds=settings.access_token_ttl_s), clock
            ),
            refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_s),
            totp_issuer=settings.totp_issuer,
            totp_sealer=totp_sealer_from_settings(settings),
            login_per_ip=RateRule(
                "login-ip",
                settings.login_attempts_per_ip,
                login_window,
                "login attempts from this address",
            ),
            login_per_account=RateRule(
                "login-account",
                settings.login_attempts_per_account,
                login_window,
                "login attempts for this account",
            ),
            registrations_per_ip=RateRule(
                "register-ip",
                settings.registrations_per_ip,
                timedelta(seconds=settings.registration_window_s),
                "registrations from this address",
            ),
            idempotency_ttl=timedelta(seconds=settings.idempotency_key_ttl_s),
            idempotency_lock_timeout=timedelta(seconds=settings.idempotency_lock_timeout_s),
        )


def install(app: FastAPI, settings: Settings, clock: Clock) -> None:
    app.state.auth = AuthRuntime.from_settings(settings, clock)


def auth_runtime(request: Request) -> AuthRuntime:
    runtime = request.app.state.auth
    assert isinstance(runtime, AuthRuntime)
    return runtime


def identity_service(request: Request) -> IdentityService:
    runtime = auth_runtime(request)
    return IdentityService(
        app_state(request).engine,
        runtime.clock,
        runtime.passwords,
        runtime.access_tokens,
        refresh_ttl=runtime.refresh_ttl,
        totp_issuer=runtime.totp_issuer,
        totp_sealer=runtime.totp_sealer,
    )


def rate_limiter(request: Request) -> RateLimiter:
    return RateLimiter(app_state(request).engine, auth_runtime(request).clock)


Identity = Annotated[IdentityService, Depends(identity_service)]
