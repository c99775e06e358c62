"""The RBAC table covers every route, and every role gets exactly the access it should."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import Engine

from croupier.api.rbac import PUBLIC, ROUTE_ACCESS, RouteKey
from croupier.identity.roles import Role
from tests.integration.api.conftest import Api, bearer

ANONYMOUS = "anonymous"
ADMIN_WITHOUT_TOTP = "admin without TOTP"
SIGNED_IN = frozenset({*(role.value for role in Role), ADMIN_WITHOUT_TOTP})
EVERYONE = SIGNED_IN | {ANONYMOUS}
PLAYERS = frozenset({Role.PLAYER.value})
MONEY_WATCHERS = frozenset({Role.TREASURY.value, Role.COMPLIANCE.value, Role.ADMIN.value})

# The specification, written out by hand: (method, path) -> who gets past RBAC.
# Deliberately not derived from ROUTE_ACCESS, so a wrong table entry fails here.
EXPECTED_CALLERS: dict[RouteKey, frozenset[str]] = {
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    ("GET", "/docs/oauth2-redirect"): EVERYONE,
    ("GET", "/redoc"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("POST", "/auth/register"): EVERYONE,
    ("POST", "/auth/login"): EVERYONE,
    ("POST", "/auth/refresh"): EVERYONE,
    ("POST", "/auth/totp/setup"): SIGNED_IN,
    ("POST", "/auth/totp/confirm"): SIGNED_IN,
    ("GET", "/me"): SIGNED_IN,
    ("PUT", "/admin/users/{user_id}/role"): frozenset({Role.ADMIN.value}),
    ("GET", "/metrics"): EVERYONE,
    ("GET", "/admin/alerts"): MONEY_WATCHERS,
    ("POST", "/admin/alerts/{alert_id}/ack"): MONEY_WATCHERS,
    ("GET", "/admin/reconciliation"): MONEY_WATCHERS,
    ("GET", "/admin/reconciliation/deposit-addresses"): MONEY_WATCHERS,
    ("GET", "/admin/circuit-breaker"): MONEY_WATCHERS,
    ("POST", "/admin/circuit-breaker/trip"): MONEY_WATCHERS,
    ("POST", "/admin/circuit-breaker/resume"): frozenset({Role.COMPLIANCE.value, Role.ADMIN.value}),
    # Play: players only (staff accounts do not gamble); the verifier is for everyone.
    ("POST", "/bets"): PLAYERS,
    ("GET", "/bets/{bet_id}"): PLAYERS,
    ("POST", "/mines"): PLAYERS,
    ("GET", "/mines/{bet_id}"): PLAYERS,
    ("POST", "/mines/{bet_id}/reveal"): PLAYERS,
    ("POST", "/mines/{bet_id}/cashout"): PLAYERS,
    ("GET", "/fairness"): PLAYERS,
    ("POST", "/fairness/rotate"): PLAYERS,
    ("POST", "/fairness/client-seed"): PLAYERS,
    ("POST", "/verify/{game}"): EVERYONE,
    ("GET", "/balances"): PLAYERS,
    ("GET", "/statement"): PLAYERS,
    ("POST", "/dev/credit"): PLAYERS,
    # Crash: anyone may watch the shared round; only players bet and cash out.
    ("GET", "/crash/current"): EVERYONE,
    ("POST", "/crash/bets"): PLAYERS,
    ("POST", "/crash/bets/{bet_id}/cashout"): PLAYERS,
    # Compliance: players manage their own KYC and limits; only compliance decides KYC.
    ("POST", "/kyc"): PLAYERS,
    ("GET", "/kyc"): PLAYERS,
    ("GET", "/admin/kyc"): frozenset({Role.COMPLIANCE.value}),
    ("GET", "/admin/kyc/{review_id}"): frozenset({Role.COMPLIANCE.value}),
    ("POST", "/admin/kyc/{review_id}/approve"): frozenset({Role.COMPLIANCE.value}),
    ("POST", "/admin/kyc/{review_id}/reject"): frozenset({Role.COMPLIANCE.value}),
    ("POST", "/admin/kyc/{review_id}/request-info"): frozenset({Role.COMPLIANCE.value}),
    ("GET", "/limits"): PLAYERS,
    ("PUT", "/limits"): PLAYERS,
    ("POST", "/self-exclusion"): PLAYERS,
    ("POST", "/cool-off"): PLAYERS,
    # Bonuses: players claim and forfeit their own; support or an admin grants one.
    ("GET", "/bonuses"): PLAYERS,
    ("GET", "/bonuses/vip"): PLAYERS,
    ("POST", "/bonuses"): PLAYERS,
    ("POST", "/bonuses/{bonus_id}/forfeit"): PLAYERS,
    ("POST", "/admin/bonuses"): frozenset({Role.SUPPORT.value, Role.ADMIN.value}),
    # Payments: deposits and withdrawals are the player's; staff read any withdrawal;
    # compliance (or an admin) decides those awaiting a decision.
    ("GET", "/deposits/address"): PLAYERS,
    ("GET", "/deposits"): PLAYERS,
    ("POST", "/withdrawals"): PLAYERS,
    ("GET", "/withdrawals/{withdrawal_id}"): PLAYERS
    | {Role.SUPPORT.value, Role.COMPLIANCE.value, Role.ADMIN.value},
    ("POST", "/withdrawals/{withdrawal_id}/cancel"): PLAYERS,
    ("POST", "/admin/withdrawals/{withdrawal_id}/approve"): frozenset(
        {Role.COMPLIANCE.value, Role.ADMIN.value}
    ),
    ("POST", "/admin/withdrawals/{withdrawal_id}/reject"): frozenset(
        {Role.COMPLIANCE.value, Role.ADMIN.value}
    ),
    # Deposits held by a player's limits: compliance (or an admin) lists and releases them.
    ("GET", "/admin/deposits/held"): frozenset({Role.COMPLIANCE.value, Role.ADMIN.value}),
    ("POST", "/admin/deposits/{deposit_id}/release"): frozenset(
        {Role.COMPLIANCE.value, Role.ADMIN.value}
    ),
    # Treasury: refills are raised, approved and answered by treasury staff only.
    ("POST", "/admin/refills"): frozenset({Role.TREASURY.value}),
    ("GET", "/admin/refills/{refill_id}"): MONEY_WATCHERS,
    ("POST", "/admin/refills/{refill_id}/approve"): frozenset({Role.TREASURY.value}),
    ("POST", "/admin/refills/{refill_id}/tx"): frozenset({Role.TREASURY.value}),
    # Last: it ends the session the other checks ride on.
    ("POST", "/auth/logout"): SIGNED_IN,
}


def served_routes(app: FastAPI) -> Iterator[tuple[RouteKey, Any]]:
    """(method, path) of every route the app answers, through included routers; HEAD is
    Starlette's automatic twin of GET and is not a route of its own."""
    for context in iter_route_contexts(app.routes):
        assert context.path is not None
        for method in sorted((context.methods or set()) - {"HEAD"}):
            yield (method, context.path), context


def test_every_route_has_an_access_rule(api: Api) -> None:
    served = {key for key, _ in served_routes(api.app)}
    assert served - set(ROUTE_ACCESS) == set(), "add these routes to croupier.api.rbac"
    assert set(ROUTE_ACCESS) - served == set(), "these ROUTE_ACCESS entries serve nothing"


def test_the_table_is_keyed_by_the_paths_rbac_sees_at_request_time(api: Api) -> None:
    """``authorize`` looks routes up by their own template; a prefix added at
    include_router time would hide from it, so routers must carry full paths."""
    for (_, path), context in served_routes(api.app):
        assert context.original_route.path == path


def test_routes_outside_fastapis_dependencies_are_public(api: Api) -> None:
    """Plain Starlette routes (the docs) never run ``authorize``: only PUBLIC is honest."""
    for key, context in served_routes(api.app):
        if not isinstance(context.original_route, APIRoute):
            assert ROUTE_ACCESS[key] == PUBLIC, key


def test_the_expected_matrix_names_every_route(api: Api) -> None:
    assert set(EXPECTED_CALLERS) == {key for key, _ in served_routes(api.app)}


async def test_every_route_for_every_role_is_allowed_or_denied_as_specified(
    api: Api, engine: Engine
) -> None:
    refresh_tokens = await _one_session_per_caller(api, engine)
    for (method, path), allowed in EXPECTED_CALLERS.items():
        concrete_path = path.replace("{user_id}", str(uuid.uuid4())).replace("{alert_id}", "0")
        concrete_path = concrete_path.replace("{review_id}", str(uuid.uuid4()))
        concrete_path = concrete_path.replace("{refill_id}", str(uuid.uuid4()))
        concrete_path = concrete_path.replace("{bonus_id}", str(uuid.uuid4()))
        concrete_path = concrete_path.replace("{deposit_id}", f"deposit-eth-0x{uuid.uuid4().hex}-0")
        for caller in sorted(EVERYONE):
            headers: dict[str, str] = {}
            if caller != ANONYMOUS:
                headers = bearer(await _fresh_access_token(api, refresh_tokens, caller))
            body: dict[str, str] | None = {} if method in {"POST", "PUT"} else None
            response = await api.client.request(method, concrete_path, json=body, headers=headers)
            cell = f"{caller} {method} {path} -> {response.status_code} {response.text[:200]}"
            if caller in allowed:
                assert response.status_code not in {401, 403}, cell
            else:
                assert response.status_code == (401 if caller == ANONYMOUS else 403), cell
                assert response.headers["content-type"] == "application/problem+json", cell


async def _one_session_per_caller(api: Api, engine: Engine) -> dict[str, str]:
    sessions = {Role.PLAYER.value: (await api.player())["refresh_token"]}
    for role in Role:
        if role.is_staff:
            sessions[role.value] = (await api.staff(engine, role))["refresh_token"]
    admin_email = api.create_staff(engine, Role.ADMIN)
    sessions[ADMIN_WITHOUT_TOTP] = (await api.login(admin_email))["refresh_token"]
    return sessions


async def _fresh_access_token(api: Api, refresh_tokens: dict[str, str], caller: str) -> str:
    """Rotate the caller's refresh token, so no check rides on an expiring access token."""
    response = await api.client.post(
        "/auth/refresh", json={"refresh_token": refresh_tokens[caller]}
    )
    assert response.status_code == 200, (caller, response.text)
    refresh_tokens[caller] = response.json()["refresh_token"]
    return str(response.json()["access_token"])
