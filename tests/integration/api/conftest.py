"""An API client per test: the real app (create_app) over real PostgreSQL and Temporal.

Each test gets its own manual clock (to expire tokens and refill rate limits without
sleeping) and its own client IP address (so per-IP rate limits never leak between
tests). Password hashing uses argon2's cheapest allowed cost to keep the suite fast.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine

from croupier.api.app import create_app
from croupier.api.auth.runtime import AuthRuntime
from croupier.core.clock import ManualClock
from croupier.core.settings import Settings
from croupier.identity.roles import Role
from croupier.identity.service import create_user

PASSWORD = "correct horse battery staple"
TEST_JWT_SECRET = "test-secret-for-croupier-api-tests-only-0123456789"
_peers = itertools.count(1)


@pytest.fixture(scope="session")
def api_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "jwt_secret": SecretStr(TEST_JWT_SECRET),
            "password_hash_time_cost": 1,
            "password_hash_memory_kib": 8192,
            "login_attempts_per_ip": 10_000,
            "login_attempts_per_account": 10_000,
            "registrations_per_ip": 10_000,
        }
    )


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


class Api:
    """An HTTP client on one app, with the few steps most tests start from."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, clock: ManualClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock

    @property
    def runtime(self) -> AuthRuntime:
        runtime = self.app.state.auth
        assert isinstance(runtime, AuthRuntime)
        return runtime

    async def register(self, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post(
            "/auth/register", json={"email": email or new_email(), "password": password}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def login(
        self, email: str, password: str = PASSWORD, totp_code: str | None = None
    ) -> dict[str, Any]:
        body = {"email": email, "password": password}
        if totp_code is not None:
            body["totp_code"] = totp_code
        response = await self.client.post("/auth/login", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def player(self) -> dict[str, Any]:
        """A fresh player's login tokens, with ``email`` added."""
        email = (await self.register())["email"]
        return {**await self.login(email), "email": email}

    def create_staff(self, engine: Engine, role: Role) -> str:
        """A staff account as ``croupier users create-staff`` makes it; returns the email."""
        email = new_email()
        create_user(engine, self.clock, self.runtime.passwords, email, PASSWORD, role)
        return email

    async def enrol_totp(self, access_token: str) -> str:
        """Enable TOTP for the token's user; returns the secret. Moves the clock one step
        on, so the next code is from a step not yet used."""
        setup = await self.client.post("/auth/totp/setup", headers=bearer(access_token))
        assert setup.status_code == 200, setup.text
        secret = str(setup.json()["secret"])
        confirm = await self.client.post(
            "/auth/totp/confirm",
            json={"code": self.totp_code(secret)},
            headers=bearer(access_token),
        )
        assert confirm.status_code == 200, confirm.text
        self.clock.advance(timedelta(seconds=30))
        return secret

    def totp_code(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(self.clock.now())

    async def staff(self, engine: Engine, role: Role) -> dict[str, Any]:
        """A staff member with TOTP enrolled and a session opened with a code."""
        email = self.create_staff(engine, role)
        first = await self.login(email)
        secret = await self.enrol_totp(first["access_token"])
        tokens = await self.login(email, totp_code=self.totp_code(secret))
        return {**tokens, "email": email, "totp_secret": secret}


ApiFactory = Callable[..., AbstractAsyncContextManager[Api]]


@pytest.fixture
def api_factory(api_settings: Settings) -> ApiFactory:
    """Build an app with some settings changed; ``async with api_factory(...) as api``."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[Api]:
        clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
        app = create_app(api_settings.model_copy(update=overrides), clock=clock)
        n = next(_peers)
        peer = (f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}", 40000)
        transport = httpx.ASGITransport(app=app, client=peer)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://croupier.test") as client,
        ):
            yield Api(app, client, clock)

    return build


@pytest_asyncio.fixture
async def api(api_factory: ApiFactory) -> AsyncIterator[Api]:
    async with api_factory() as built:
        yield built
