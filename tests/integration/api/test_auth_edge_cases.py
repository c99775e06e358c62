"""Every way a credential can be wrong answers 401 (or 403 for a known caller lacking
rights), with a problem body saying which, and never a 500."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import Engine, select, update

from croupier.identity.roles import Role
from croupier.identity.tables import login_sessions, users
from croupier.identity.totp_sealing import is_sealed
from tests.integration.api.conftest import PASSWORD, Api, bearer, new_email


def problem_type(response: Any) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return str(response.json()["type"]).removeprefix("/problems/")


async def test_access_token_works_until_its_fifteen_minutes_are_up(api: Api) -> None:
    tokens = await api.player()

    api.clock.advance(timedelta(minutes=15) - timedelta(seconds=1))
    assert (await api.client.get("/me", headers=bearer(tokens["access_token"]))).status_code == 200

    api.clock.advance(timedelta(seconds=1))
    expired = await api.client.get("/me", headers=bearer(tokens["access_token"]))
    assert expired.status_code == 401
    assert problem_type(expired) == "token_expired"
    assert expired.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_with_a_changed_claim_is_rejected(api: Api) -> None:
    tokens = await api.player()
    header, payload, signature = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    response = await api.client.get("/me", headers=bearer(f"{header}.{forged_payload}.{signature}"))

    assert response.status_code == 401
    assert problem_type(response) == "invalid_token"


async def test_a_token_signed_with_another_secret_or_no_algorithm_is_rejected(api: Api) -> None:
    tokens = await api.player()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    other_secret = jwt.encode(claims, "another-secret-that-is-long-enough-0123456789", "HS256")
    unsigned = jwt.encode(claims, "", algorithm="none")

    for token in (other_secret, unsigned, "not.a.jwt", "x" * 5000):
        response = await api.client.get("/me", headers=bearer(token))
        assert response.status_code == 401, token
        assert problem_type(response) == "invalid_token"


async def test_missing_or_non_bearer_authorization_is_401(api: Api) -> None:
    tokens = await api.player()
    for headers in ({}, {"Authorization": tokens["access_token"]}, {"Authorization": "Basic x"}):
        response = await api.client.get("/me", headers=headers)
        assert response.status_code == 401
        assert problem_type(response) == "unauthenticated"


async def test_unknown_email_and_wrong_password_answer_alike(api: Api) -> None:
    email = (await api.register())["email"]

    wrong_password = await api.client.post(
        "/auth/login", json={"email": email, "password": PASSWORD + "!"}
    )
    unknown_email = await api.client.post(
        "/auth/login", json={"email": new_email(), "password": PASSWORD}
    )

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert problem_type(wrong_password) == "invalid_credentials"


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    api: Api, engine: Engine
) -> None:
    first = await api.player()
    second = (
        await api.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()

    reuse = await api.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert reuse.status_code == 401
    assert problem_type(reuse) == "refresh_token_reused"
    # The legitimate holder's newer tokens died with the family.
    newest = await api.client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert newest.status_code == 401
    assert problem_type(newest) == "session_revoked"
    me = await api.client.get("/me", headers=bearer(second["access_token"]))
    assert me.status_code == 401
    claims = jwt.decode(second["access_token"], options={"verify_signature": False})
    with engine.connect() as conn:
        reason = conn.execute(
            select(login_sessions.c.revoked_reason).where(login_sessions.c.id == claims["sid"])
        ).scalar_one()
    assert reason == "refresh_token_reused"


async def test_unknown_and_expired_refresh_tokens_are_401(api: Api) -> None:
    tokens = await api.player()

    unknown = await api.client.post("/auth/refresh", json={"refresh_token": "A" * 43})
    api.clock.advance(timedelta(days=14))
    expired = await api.client.post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )

    assert unknown.status_code == expired.status_code == 401
    assert problem_type(unknown) == "invalid_token"
    assert problem_type(expired) == "token_expired"


async def test_player_totp_enrolment_then_login_needs_a_fresh_code(api: Api) -> None:
    player = await api.player()
    setup = await api.client.post("/auth/totp/setup", headers=bearer(player["access_token"]))
    assert setup.status_code == 200
    assert setup.json()["provisioning_uri"].startswith("otpauth://totp/Croupier:")
    secret = setup.json()["secret"]
    good_code = api.totp_code(secret)
    wrong_code = f"{(int(good_code) + 1) % 1_000_000:06d}"

    wrong = await api.client.post(
        "/auth/totp/confirm", json={"code": wrong_code}, headers=bearer(player["access_token"])
    )
    assert wrong.status_code == 401
    assert problem_type(wrong) == "invalid_totp_code"
    confirmed = await api.client.post(
        "/auth/totp/confirm", json={"code": good_code}, headers=bearer(player["access_token"])
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["totp_enabled"] is True

    credentials = {"email": player["email"], "password": PASSWORD}
    no_code = await api.client.post("/auth/login", json=credentials)
    assert no_code.status_code == 401
    assert problem_type(no_code) == "totp_required"
    replayed = await api.client.post("/auth/login", json={**credentials, "totp_code": good_code})
    assert replayed.status_code == 401
    assert problem_type(replayed) == "invalid_totp_code"

    api.clock.advance(timedelta(seconds=30))
    fresh_code = api.totp_code(secret)
    assert (
        await api.client.post("/auth/login", json={**credentials, "totp_code": fresh_code})
    ).is_success
    again = await api.client.post("/auth/login", json={**credentials, "totp_code": fresh_code})
    assert again.status_code == 401
    assert problem_type(again) == "invalid_totp_code"


async def test_totp_secrets_are_stored_sealed_from_setup_on(api: Api, engine: Engine) -> None:
    player = await api.player()
    setup = await api.client.post("/auth/totp/setup", headers=bearer(player["access_token"]))
    secret = setup.json()["secret"]
    pending = _stored_totp(engine, player["email"])
    await api.client.post(
        "/auth/totp/confirm",
        json={"code": api.totp_code(secret)},
        headers=bearer(player["access_token"]),
    )
    enabled = _stored_totp(engine, player["email"])

    for stored in (pending[1], enabled[0]):
        assert stored is not None and is_sealed(stored) and secret not in stored
    assert enabled[1] is None


async def test_a_secret_stored_before_sealing_still_logs_in_and_is_sealed_then(
    api: Api, engine: Engine
) -> None:
    player = await api.player()
    secret = await api.enrol_totp(player["access_token"])
    with engine.begin() as conn:  # as a row written before secrets were sealed
        conn.execute(
            update(users).where(users.c.email == player["email"]).values(totp_secret=secret)
        )

    login = await api.client.post(
        "/auth/login",
        json={"email": player["email"], "password": PASSWORD, "totp_code": api.totp_code(secret)},
    )

    assert login.status_code == 200, login.text
    stored = _stored_totp(engine, player["email"])[0]
    assert stored is not None and is_sealed(stored) and secret not in stored
    api.clock.advance(timedelta(seconds=30))
    again = await api.login(player["email"], totp_code=api.totp_code(secret))
    assert again["access_token"]


def _stored_totp(engine: Engine, email: str) -> tuple[str | None, str | None]:
    """(secret, pending secret) as the users row holds them."""
    with engine.connect() as conn:
        row = conn.execute(
            select(users.c.totp_secret, users.c.totp_pending_secret).where(users.c.email == email)
        ).one()
    return row.totp_secret, row.totp_pending_secret


async def test_totp_cannot_be_enrolled_twice_or_confirmed_without_setup(api: Api) -> None:
    player = await api.player()
    early = await api.client.post(
        "/auth/totp/confirm", json={"code": "123456"}, headers=bearer(player["access_token"])
    )
    assert early.status_code == 409
    assert problem_type(early) == "totp_setup_not_started"

    await api.enrol_totp(player["access_token"])

    again = await api.client.post("/auth/totp/setup", headers=bearer(player["access_token"]))
    assert again.status_code == 409
    assert problem_type(again) == "totp_already_enabled"


async def test_staff_without_totp_get_a_token_only_for_enrolment(api: Api, engine: Engine) -> None:
    email = api.create_staff(engine, Role.ADMIN)
    victim_id = (await api.register())["id"]
    change = {"role": "support"}

    first = await api.login(email)
    assert first["totp_enrolment_required"] is True
    assert (await api.client.get("/me", headers=bearer(first["access_token"]))).status_code == 200
    refused = await api.client.put(
        f"/admin/users/{victim_id}/role", json=change, headers=bearer(first["access_token"])
    )
    assert refused.status_code == 403
    assert problem_type(refused) == "totp_required_for_staff"

    secret = await api.enrol_totp(first["access_token"])
    # Enrolling does not upgrade the session it happened in: log in again with a code.
    still_refused = await api.client.put(
        f"/admin/users/{victim_id}/role", json=change, headers=bearer(first["access_token"])
    )
    assert still_refused.status_code == 403
    with_totp = await api.login(email, totp_code=api.totp_code(secret))
    assert with_totp["totp_enrolment_required"] is False
    allowed = await api.client.put(
        f"/admin/users/{victim_id}/role", json=change, headers=bearer(with_totp["access_token"])
    )
    assert allowed.status_code == 200
    assert allowed.json()["role"] == "support"


async def test_a_player_on_an_admin_route_is_403(api: Api) -> None:
    player = await api.player()
    response = await api.client.put(
        "/admin/users/00000000-0000-0000-0000-000000000000/role",
        json={"role": "admin"},
        headers=bearer(player["access_token"]),
    )
    assert response.status_code == 403
    assert problem_type(response) == "permission_denied"


async def test_a_role_change_ends_the_users_sessions(api: Api, engine: Engine) -> None:
    admin = await api.staff(engine, Role.ADMIN)
    player = await api.player()
    player_id = (await api.client.get("/me", headers=bearer(player["access_token"]))).json()["id"]

    changed = await api.client.put(
        f"/admin/users/{player_id}/role",
        json={"role": "support"},
        headers=bearer(admin["access_token"]),
    )

    assert changed.status_code == 200
    stale = await api.client.get("/me", headers=bearer(player["access_token"]))
    assert stale.status_code == 401
    assert problem_type(stale) == "session_revoked"
    relogin = await api.login(player["email"])
    assert relogin["totp_enrolment_required"] is True


async def test_admins_cannot_change_their_own_role_or_unknown_users(
    api: Api, engine: Engine
) -> None:
    admin = await api.staff(engine, Role.ADMIN)
    admin_id = (await api.client.get("/me", headers=bearer(admin["access_token"]))).json()["id"]

    own = await api.client.put(
        f"/admin/users/{admin_id}/role",
        json={"role": "player"},
        headers=bearer(admin["access_token"]),
    )
    unknown = await api.client.put(
        "/admin/users/00000000-0000-0000-0000-000000000000/role",
        json={"role": "player"},
        headers=bearer(admin["access_token"]),
    )

    assert own.status_code == 409
    assert problem_type(own) == "cannot_change_own_role"
    assert unknown.status_code == 404
    assert problem_type(unknown) == "user_not_found"
