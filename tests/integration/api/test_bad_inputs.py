"""Whatever a client sends, the answer is a 4xx problem body naming the fault, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from croupier.identity.roles import Role
from tests.integration.api.conftest import PASSWORD, Api, bearer, new_email


def assert_problem(response: httpx.Response, status: int, problem: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = dict(response.json())
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["status"] == status
    assert body["type"] == f"/problems/{problem}"
    return body


@pytest.mark.parametrize(
    ("raw_body", "mentions"),
    [
        (b'{"email": "a@example.com", "password": ', "JSON decode error"),
        (b"[1, 2, 3]", "body"),
        (b'"just a string"', "body"),
        (b'{"email": 12, "password": ["x"]}', "body.email"),
        (b'{"email": "a@example.com"}', "body.password: Field required"),
        (b"{}", "body.email: Field required"),
        (b'{"email": "a@example.com", "password": "long enough pass", "role": "admin"}', "role"),
        (b"", "body: Field required"),
    ],
)
async def test_malformed_register_bodies_are_422(api: Api, raw_body: bytes, mentions: str) -> None:
    response = await api.client.post(
        "/auth/register", content=raw_body, headers={"Content-Type": "application/json"}
    )

    body = assert_problem(response, 422, "validation_error")
    assert mentions in body["detail"]


async def test_a_weak_password_lists_every_broken_rule(api: Api) -> None:
    response = await api.client.post(
        "/auth/register", json={"email": "annabel@example.com", "password": "annabel"}
    )

    body = assert_problem(response, 422, "weak_password")
    assert "at least 12 characters" in body["detail"]
    assert "must not contain your email address" in body["detail"]


@pytest.mark.parametrize(
    "email", ["no-at-sign", "two@@example.com", "a@localhost", "a..b@example.com", "é@example.com"]
)
async def test_an_unusable_email_is_422(api: Api, email: str) -> None:
    response = await api.client.post("/auth/register", json={"email": email, "password": PASSWORD})

    assert_problem(response, 422, "invalid_email")


async def test_an_email_registered_in_another_case_is_409(api: Api) -> None:
    email = new_email()
    await api.register(email)

    response = await api.client.post(
        "/auth/register", json={"email": email.upper(), "password": PASSWORD}
    )

    assert_problem(response, 409, "email_already_registered")


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", 123456])
async def test_a_totp_code_that_is_not_six_digits_is_422(api: Api, code: object) -> None:
    response = await api.client.post(
        "/auth/login", json={"email": new_email(), "password": PASSWORD, "totp_code": code}
    )

    assert_problem(response, 422, "validation_error")


async def test_oversized_fields_are_refused_before_any_work(api: Api) -> None:
    huge = "p" * 5000
    register = await api.client.post(
        "/auth/register", json={"email": new_email(), "password": huge}
    )
    refresh = await api.client.post("/auth/refresh", json={"refresh_token": huge})

    assert_problem(register, 422, "validation_error")
    assert_problem(refresh, 422, "validation_error")


async def test_a_long_password_within_input_limits_gets_the_policy_message(api: Api) -> None:
    response = await api.client.post(
        "/auth/register", json={"email": new_email(), "password": "Ab1-" * 40}
    )

    body = assert_problem(response, 422, "weak_password")
    assert "at most 128 characters" in body["detail"]


async def test_bad_admin_route_inputs_are_422(api: Api, engine: Engine) -> None:
    admin = await api.staff(engine, Role.ADMIN)
    headers = bearer(admin["access_token"])

    not_a_uuid = await api.client.put(
        "/admin/users/42/role", json={"role": "admin"}, headers=headers
    )
    unknown_role = await api.client.put(
        "/admin/users/00000000-0000-0000-0000-000000000000/role",
        json={"role": "croupier"},
        headers=headers,
    )

    assert "user_id" in assert_problem(not_a_uuid, 422, "validation_error")["detail"]
    assert "role" in assert_problem(unknown_role, 422, "validation_error")["detail"]


async def test_a_wrong_method_on_an_auth_route_is_a_405_problem(api: Api) -> None:
    response = await api.client.get("/auth/login")

    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
