"""The roles a user can hold. Staff roles must use TOTP before staff routes accept them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PLAYER = "player"
    SUPPORT = "support"
    COMPLIANCE = "compliance"
    TREASURY = "treasury"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.PLAYER


STAFF_ROLES: frozenset[Role] = frozenset(role for role in Role if role.is_staff)
