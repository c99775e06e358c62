"""Login and registration are rate limited per IP and per account: 429, Retry-After, problem."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.integration.api.conftest import PASSWORD, ApiFactory, new_email


def assert_rate_limited(response: httpx.Response, retry_after_s: int) -> None:
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(retry_after_s)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/rate_limited"
    assert f"retry in {retry_after_s} s" in response.json()["detail"]


async def test_logins_from_one_address_past_the_limit_get_429_until_a_slot_frees(
    api_factory: ApiFactory,
) -> None:
    async with api_factory(login_attempts_per_ip=3, login_window_s=60) as api:
        attempt = {"email": new_email(), "password": PASSWORD}
        statuses = [
            (await api.client.post("/auth/login", json=attempt)).status_code for _ in range(3)
        ]
        assert statuses == [401, 401, 401]

        limited = await api.client.post("/auth/login", json=attempt)
        # Three per minute: one slot frees every 20 seconds.
        assert_rate_limited(limited, retry_after_s=20)

        api.clock.advance(timedelta(seconds=19))
        assert_rate_limited(await api.client.post("/auth/login", json=attempt), retry_after_s=1)
        api.clock.advance(timedelta(seconds=1))
        assert (await api.client.post("/auth/login", json=attempt)).status_code == 401


async def test_one_account_is_limited_whichever_address_the_attempts_come_from(
    api_factory: ApiFactory,
) -> None:
    email = new_email()
    limits = {"login_attempts_per_account": 2, "login_window_s": 60}
    async with api_factory(**limits) as first, api_factory(**limits) as second:
        await first.register(email)
        assert (
            await first.client.post("/auth/login", json={"email": email, "password": "x"})
        ).status_code == 401
        assert (
            await second.client.post("/auth/login", json={"email": email, "password": "x"})
        ).status_code == 401

        # Even the right password waits: the limit guards the account, not the guess.
        limited = await second.client.post(
            "/auth/login", json={"email": email.upper(), "password": PASSWORD}
        )
        assert_rate_limited(limited, retry_after_s=30)


async def test_registrations_from_one_address_are_limited(api_factory: ApiFactory) -> None:
    async with api_factory(registrations_per_ip=2, registration_window_s=3600) as api:
        await api.register()
        await api.register()

        limited = await api.client.post(
            "/auth/register", json={"email": new_email(), "password": PASSWORD}
        )

        assert_rate_limited(limited, retry_after_s=1800)


async def test_limits_of_one_address_do_not_touch_another(api_factory: ApiFactory) -> None:
    async with (
        api_factory(registrations_per_ip=1) as busy,
        api_factory(registrations_per_ip=1) as quiet,
    ):
        await busy.register()
        limited = await busy.client.post(
            "/auth/register", json={"email": new_email(), "password": PASSWORD}
        )
        assert limited.status_code == 429

        await quiet.register()
