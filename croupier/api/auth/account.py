"""The caller's own account (``/me``) and admin changes to other accounts."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from croupier.api.auth.models import RoleChangeRequest, UserResponse, problem_responses
from croupier.api.auth.runtime import Identity
from croupier.api.rbac import Claims

router = APIRouter(tags=["account"])


@router.get("/me", response_model=UserResponse, responses=problem_responses(401))
def me(claims: Claims, identity: Identity) -> UserResponse:
    return UserResponse.of(identity.get_user(claims.user_id))


@router.put(
    "/admin/users/{user_id}/role",
    response_model=UserResponse,
    tags=["admin"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
def change_role(
    user_id: uuid.UUID, body: RoleChangeRequest, claims: Claims, identity: Identity
) -> UserResponse:
    """Give a user another role. Their sessions end, so no token keeps the old role."""
    return UserResponse.of(identity.change_role(claims.user_id, user_id, body.role))
