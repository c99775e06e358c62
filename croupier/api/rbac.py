"""Who may call what: one table gives every route its access, one dependency enforces it.

``ROUTE_ACCESS`` maps (method, path template) to an ``Access``. ``authorize`` runs on
every API route (``create_app`` installs it app-wide), looks the matched route up and:

- PUBLIC: lets anyone in, no token read;
- ANY_USER: any valid, live session; the routes a staff member needs *before* TOTP
  is enrolled (their own account, enrolment, logout);
- ``only(...)``: those roles, and a staff member only with a session opened with TOTP.

A route missing from the table is refused (fail closed), and a test walks the app's
routes so that never reaches production. Routers carry their full paths (prefix on
the ``APIRouter`` itself): the table is keyed by the matched route's own template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from croupier.api.auth.runtime import identity_service
from croupier.core.errors import PermissionDenied, Unauthenticated
from croupier.identity.access_tokens import AccessClaims
from croupier.identity.errors import TotpRequiredForStaff
from croupier.identity.roles import Role

log = structlog.get_logger(__name__)

BEARER_SCHEME = "bearer"


@dataclass(frozen=True, slots=True)
class Access:
    """``roles`` None means public; ``staff_need_totp`` is off only for ANY_USER."""

    roles: frozenset[Role] | None
    staff_need_totp: bool

    def describe(self) -> str:
        if self.roles is None:
            return "public"
        names = ", ".join(sorted(role.value for role in self.roles))
        return f"roles: {names}" + ("; staff need a TOTP session" if self.staff_need_totp else "")


PUBLIC = Access(roles=None, staff_need_totp=False)
ANY_USER = Access(roles=frozenset(Role), staff_need_totp=False)


def only(*roles: Role) -> Access:
    assert roles, "a route open to no role is a route to delete"
    return Access(roles=frozenset(roles), staff_need_totp=True)


RouteKey = tuple[str, str]

ROUTE_ACCESS: Mapping[RouteKey, Access] = {
    # FastAPI's own documentation routes.
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("POST", "/auth/register"): PUBLIC,
    ("POST", "/auth/login"): PUBLIC,
    ("POST", "/auth/refresh"): PUBLIC,
    ("POST", "/auth/logout"): ANY_USER,
    ("POST", "/auth/totp/setup"): ANY_USER,
    ("POST", "/auth/totp/confirm"): ANY_USER,
    ("GET", "/me"): ANY_USER,
    ("PUT", "/admin/users/{user_id}/role"): only(Role.ADMIN),
    # Play (croupier.api.play): players only; staff accounts do not gamble. The
    # verifier is public: anyone may check a round.
    ("POST", "/bets"): only(Role.PLAYER),
    ("GET", "/bets/{bet_id}"): only(Role.PLAYER),
    ("POST", "/mines"): only(Role.PLAYER),
    ("GET", "/mines/{bet_id}"): only(Role.PLAYER),
    ("POST", "/mines/{bet_id}/reveal"): only(Role.PLAYER),
    ("POST", "/mines/{bet_id}/cashout"): only(Role.PLAYER),
    ("GET", "/fairness"): only(Role.PLAYER),
    ("POST", "/fairness/rotate"): only(Role.PLAYER),
    ("POST", "/fairness/client-seed"): only(Role.PLAYER),
    ("POST", "/verify/{game}"): PUBLIC,
    ("GET", "/balances"): only(Role.PLAYER),
    ("GET", "/statement"): only(Role.PLAYER),
    ("POST", "/dev/credit"): only(Role.PLAYER),
    # Crash (croupier.api.crash): the shared round is public to watch; bets are players'.
    ("GET", "/crash/current"): PUBLIC,
    ("POST", "/crash/bets"): only(Role.PLAYER),
    ("POST", "/crash/bets/{bet_id}/cashout"): only(Role.PLAYER),
    # Ops (croupier.api.monitoring, croupier.api.metrics). /metrics is public like
    # /healthz: expose it to the scraper's network only.
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/admin/alerts"): only(Role.TREASURY, Role.COMPLIANCE, Role.ADMIN),
    ("POST", "/admin/alerts/{alert_id}/ack"): only(Role.TREASURY, Role.COMPLIANCE, Role.ADMIN),
    ("GET", "/admin/reconciliation"): only(Role.TREASURY, Role.COMPLIANCE, Role.ADMIN),
    ("GET", "/admin/reconciliation/deposit-addresses"): only(
        Role.TREASURY, Role.COMPLIANCE, Role.ADMIN
    ),
    ("GET", "/admin/circuit-breaker"): only(Role.TREASURY, Role.COMPLIANCE, Role.ADMIN),
    # Anyone who watches money may pull the brake; releasing it is a compliance decision.
    ("POST", "/admin/circuit-breaker/trip"): only(Role.TREASURY, Role.COMPLIANCE, Role.ADMIN),
    ("POST", "/admin/circuit-breaker/resume"): only(Role.COMPLIANCE, Role.ADMIN),
    # Payments (croupier.api.payments): deposits and withdrawals are the player's; staff
    # may read any withdrawal, and compliance decides those that await a decision.
    ("GET", "/deposits/address"): only(Role.PLAYER),
    ("GET", "/deposits"): only(Role.PLAYER),
    ("POST", "/withdrawals"): only(Role.PLAYER),
    ("GET", "/withdrawals/{withdrawal_id}"): only(
        Role.PLAYER, Role.SUPPORT, Role.COMPLIANCE, Role.ADMIN
    ),
    ("POST", "/withdrawals/{withdrawal_id}/cancel"): only(Role.PLAYER),
    ("POST", "/admin/withdrawals/{withdrawal_id}/approve"): only(Role.COMPLIANCE, Role.ADMIN),
    ("POST", "/admin/withdrawals/{withdrawal_id}/reject"): only(Role.COMPLIANCE, Role.ADMIN),
    # Deposits held by a player's limits: compliance (or an admin) lists and releases them.
    ("GET", "/admin/deposits/held"): only(Role.COMPLIANCE, Role.ADMIN),
    ("POST", "/admin/deposits/{deposit_id}/release"): only(Role.COMPLIANCE, Role.ADMIN),
    # Treasury (croupier.api.treasury): refills from cold are raised, approved (two
    # different people) and answered with the offline-signed transaction by treasury
    # staff only; those who watch money may read them.
    ("POST", "/admin/refills"): only(Role.TREASURY),
    ("GET", "/admin/refills/{refill_id}"): only(Role.TREASURY, Role.COMPLIANCE, Role.ADMIN),
    ("POST", "/admin/refills/{refill_id}/approve"): only(Role.TREASURY),
    ("POST", "/admin/refills/{refill_id}/tx"): only(Role.TREASURY),
    # Compliance (croupier.api.compliance). KYC decisions are compliance's alone, not
    # even admins' (who manage roles): separation of duties.
    ("POST", "/kyc"): only(Role.PLAYER),
    ("GET", "/kyc"): only(Role.PLAYER),
    ("GET", "/admin/kyc"): only(Role.COMPLIANCE),
    ("GET", "/admin/kyc/{review_id}"): only(Role.COMPLIANCE),
    ("POST", "/admin/kyc/{review_id}/approve"): only(Role.COMPLIANCE),
    ("POST", "/admin/kyc/{review_id}/reject"): only(Role.COMPLIANCE),
    ("POST", "/admin/kyc/{review_id}/request-info"): only(Role.COMPLIANCE),
    ("GET", "/limits"): only(Role.PLAYER),
    ("PUT", "/limits"): only(Role.PLAYER),
    ("POST", "/self-exclusion"): only(Role.PLAYER),
    ("POST", "/cool-off"): only(Role.PLAYER),
    # Bonuses (croupier.api.bonus): players claim and forfeit their own; a grant by
    # staff (goodwill, VIP care) is support's or an admin's, and is audited.
    ("GET", "/bonuses"): only(Role.PLAYER),
    ("GET", "/bonuses/vip"): only(Role.PLAYER),
    ("POST", "/bonuses"): only(Role.PLAYER),
    ("POST", "/bonuses/{bonus_id}/forfeit"): only(Role.PLAYER),
    ("POST", "/admin/bonuses"): only(Role.SUPPORT, Role.ADMIN),
}


def install(app: FastAPI, table: Mapping[RouteKey, Access] = ROUTE_ACCESS) -> None:
    """Give ``app`` its access table and document it in the OpenAPI schema."""
    app.state.route_access = table
    app.openapi = _documented_openapi(app, app.openapi)  # type: ignore[method-assign]


def route_access(request: Request) -> Access | None:
    route = request.scope.get("route")
    table: Mapping[RouteKey, Access] = request.app.state.route_access
    return table.get((request.method, getattr(route, "path", "")))


async def authorize(request: Request) -> AccessClaims | None:
    """Enforce the table for this request; the caller's claims, or None on a public route."""
    access = route_access(request)
    if access is None:
        route_path = getattr(request.scope.get("route"), "path", request.url.path)
        log.error("route_without_access_rule", method=request.method, path=route_path)
        raise PermissionDenied("this route has no access rule, so it is closed")
    if access.roles is None:
        return None
    token = bearer_token(request)
    claims = await run_in_threadpool(identity_service(request).authenticate, token)
    if claims.role not in access.roles:
        raise PermissionDenied(f"the {claims.role.value} role may not use this route")
    if access.staff_need_totp and claims.role.is_staff and not claims.used_totp:
        raise TotpRequiredForStaff(
            "staff routes need a session opened with TOTP: enrol with POST /auth/totp/setup "
            "and /auth/totp/confirm, then log in again with totp_code"
        )
    return claims


def current_claims(claims: Annotated[AccessClaims | None, Depends(authorize)]) -> AccessClaims:
    """The signed-in caller; for routes whose table entry is not PUBLIC."""
    assert claims is not None, "a route that reads the caller must not be PUBLIC in ROUTE_ACCESS"
    return claims


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != BEARER_SCHEME or not token.strip():
        raise Unauthenticated("send the access token as: Authorization: Bearer <token>")
    return token.strip()


def _documented_openapi(
    app: FastAPI, generate: Callable[[], dict[str, Any]]
) -> Callable[[], dict[str, Any]]:
    """Mark each operation with the bearer scheme and its roles, straight from the table."""

    def openapi() -> dict[str, Any]:
        schema = generate()
        table: Mapping[RouteKey, Access] = app.state.route_access
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
        }
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                access = table.get((method.upper(), path))
                if access is None or access.roles is None:
                    continue
                operation["security"] = [{"bearer": []}]
                operation["x-access"] = access.describe()
        return schema

    return openapi


Claims = Annotated[AccessClaims, Depends(current_claims)]
