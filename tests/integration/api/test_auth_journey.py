"""A player's whole journey: register, log in, read /me, refresh, log out."""

from __future__ import annotations

import jwt
from sqlalchemy import Engine, select

from croupier.core.settings import Settings
from croupier.identity.tables import users
from tests.integration.api.conftest import PASSWORD, Api, ApiFactory, bearer, new_email


async def test_player_registers_logs_in_refreshes_and_logs_out(api: Api) -> None:
    email = new_email()

    registered = await api.client.post(
        "/auth/register", json={"email": f"  {email.upper()} ", "password": PASSWORD}
    )
    assert registered.status_code == 201
    assert registered.json()["email"] == email
    assert registered.json()["role"] == "player"

    tokens = await api.login(email.upper())
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    assert tokens["totp_enrolment_required"] is False

    me = await api.client.get("/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json() == {
        "id": registered.json()["id"],
        "email": email,
        "role": "player",
        "totp_enabled": False,
        "created_at": registered.json()["created_at"],
    }

    refreshed = await api.client.post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
    assert (
        await api.client.get("/me", headers=bearer(refreshed.json()["access_token"]))
    ).is_success

    logout = await api.client.post("/auth/logout", headers=bearer(refreshed.json()["access_token"]))
    assert logout.status_code == 204

    after_logout = await api.client.get("/me", headers=bearer(refreshed.json()["access_token"]))
    assert after_logout.status_code == 401
    assert after_logout.json()["type"] == "/problems/session_revoked"
    refresh_after_logout = await api.client.post(
        "/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]}
    )
    assert refresh_after_logout.status_code == 401
    assert refresh_after_logout.json()["type"] == "/problems/session_revoked"


async def test_access_token_carries_the_documented_claims(api: Api, api_settings: Settings) -> None:
    tokens = await api.player()
    assert api_settings.jwt_secret is not None

    claims = jwt.decode(
        tokens["access_token"],
        api_settings.jwt_secret.get_secret_value(),
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_iat": False},
    )

    me = (await api.client.get("/me", headers=bearer(tokens["access_token"]))).json()
    assert set(claims) == {"sub", "role", "exp", "iat", "jti", "sid", "amr"}
    assert claims["sub"] == me["id"]
    assert claims["role"] == "player"
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["amr"] == ["pwd"]


async def test_logging_out_one_session_leaves_the_others_alive(api: Api) -> None:
    email = (await api.register())["email"]
    laptop = await api.login(email)
    phone = await api.login(email)

    await api.client.post("/auth/logout", headers=bearer(laptop["access_token"]))

    assert (await api.client.get("/me", headers=bearer(laptop["access_token"]))).status_code == 401
    assert (await api.client.get("/me", headers=bearer(phone["access_token"]))).status_code == 200


async def test_a_changed_password_hash_cost_rehashes_on_next_login(
    api_factory: ApiFactory, engine: Engine
) -> None:
    async with api_factory() as cheap:
        email = (await cheap.register())["email"]
    async with api_factory(password_hash_time_cost=2) as costlier:
        await costlier.login(email, PASSWORD)

    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.email == email)).scalar()
    assert stored is not None and ",t=2," in stored
