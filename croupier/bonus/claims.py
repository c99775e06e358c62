"""Claiming a bonus, with the abuse rules checked in the claim's own transaction.

- One open bonus per player and currency (the player's bonus account then holds
  exactly that bonus's money).
- A cooldown between claims.
- One welcome bonus per person: per account, per verified identity (compliance's
  ``identity_key`` of the player's approved KYC), per device fingerprint the client
  gives, and, once the qualifying deposit arrives, per deposit address it came from.
  Unique indexes decide, so two racing claims cannot both win.

A claim is idempotent by its bonus id (the API derives it from the Idempotency-Key):
the same claim again returns the stored bonus.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from croupier.bonus.errors import (
    BonusAlreadyOpen,
    BonusClaimCooldown,
    WelcomeBonusTaken,
)
from croupier.bonus.offers import BonusKind, Offer
from croupier.bonus.records import BonusRecord, BonusStatus, get_bonus, open_bonus
from croupier.bonus.tables import bonus_claims, bonuses
from croupier.compliance.audit import record_staff_action
from croupier.compliance.tables import kyc_profiles, kyc_submissions
from croupier.core.errors import IdempotencyConflict, InvalidInput
from croupier.core.money import Currency
from croupier.ledger.connections import Bind, transaction

_FINGERPRINT_RE = re.compile(r"^[A-Za-z0-9_.:=+/-]{8,256}$")


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    bonus_id: uuid.UUID
    user_id: uuid.UUID
    offer: Offer
    currency: Currency
    claimed_at: datetime
    cooldown: timedelta
    game_weights: Mapping[str, int]
    device_fingerprint: str | None = None

    def __post_init__(self) -> None:
        fingerprint = self.device_fingerprint
        if fingerprint is not None and not _FINGERPRINT_RE.match(fingerprint):
            raise InvalidInput("a device fingerprint is 8-256 characters of [A-Za-z0-9_.:=+/-]")


def claim_bonus(bind: Bind, request: ClaimRequest) -> BonusRecord:
    """Write the claim (status pending), or refuse it; the Bonus workflow grants it."""
    with transaction(bind) as conn:
        stored = _replay(conn, request)
        if stored is not None:
            return stored
        if open_bonus(conn, request.user_id, request.currency) is not None:
            raise BonusAlreadyOpen(
                f"you already have an open bonus in {request.currency.value}: "
                "finish or forfeit it first"
            )
        _check_cooldown(conn, request)
        identity = verified_identity(conn, request.user_id) if request.offer.welcome else None
        try:
            with conn.begin_nested():
                conn.execute(bonuses.insert().values(**_bonus_row(request)))
                conn.execute(bonus_claims.insert().values(**_claim_row(request, identity)))
        except IntegrityError as error:
            raise _refusal(error) from None
        return get_bonus(conn, request.bonus_id)


def grant_by_staff(
    bind: Bind, request: ClaimRequest, *, staff_id: uuid.UUID, reason: str
) -> BonusRecord:
    """A bonus a staff member grants a player: the same claim, under the same rules,
    and its audit row in the same transaction (both commit, or neither)."""
    with transaction(bind) as conn:
        bonus = claim_bonus(conn, request)
        record_staff_action(
            conn,
            staff_id,
            "bonus.grant",
            f"bonus:{bonus.id}",
            {
                "player": str(request.user_id),
                "offer": request.offer.code,
                "currency": request.currency.value,
                "reason": reason,
            },
        )
        return bonus


def verified_identity(conn: Connection, user_id: uuid.UUID) -> str | None:
    """The identity key the player's KYC level was granted for, if they are verified."""
    query = (
        select(kyc_submissions.c.identity_key)
        .join(kyc_profiles, kyc_profiles.c.review_id == kyc_submissions.c.review_id)
        .where(kyc_profiles.c.user_id == user_id)
        .order_by(kyc_submissions.c.submitted_at.desc())
        .limit(1)
    )
    found: str | None = conn.execute(query).scalar_one_or_none()
    return found


def _replay(conn: Connection, request: ClaimRequest) -> BonusRecord | None:
    row = conn.execute(select(bonuses).where(bonuses.c.id == request.bonus_id)).one_or_none()
    if row is None:
        return None
    if (row.user_id, row.offer, row.currency) != (
        request.user_id,
        request.offer.code,
        request.currency.value,
    ):
        raise IdempotencyConflict(f"bonus claim {request.bonus_id} exists with other content")
    return get_bonus(conn, request.bonus_id)


def _check_cooldown(conn: Connection, request: ClaimRequest) -> None:
    last = conn.execute(
        select(func.max(bonus_claims.c.claimed_at)).where(bonus_claims.c.user_id == request.user_id)
    ).scalar_one()
    if last is not None and request.claimed_at - last < request.cooldown:
        wait_s = int((last + request.cooldown - request.claimed_at).total_seconds()) + 1
        raise BonusClaimCooldown(f"the next bonus can be claimed in {wait_s} seconds")


def _bonus_row(request: ClaimRequest) -> dict[str, object]:
    offer, currency = request.offer, request.currency
    terms = offer.terms(currency, request.game_weights)
    # A free bet's amount is known now; a deposit match's when its deposit arrives.
    amount = offer.amount(currency) if offer.kind is BonusKind.FREE_BET else 0
    window_s = offer.deposit_window_s if offer.kind is BonusKind.DEPOSIT_MATCH else 0
    return {
        "id": request.bonus_id,
        "user_id": request.user_id,
        "currency": currency.value,
        "offer": offer.code,
        "kind": offer.kind.value,
        "status": BonusStatus.PENDING.value,
        "amount": amount,
        "wagering_required": terms.requirement(amount),
        "wagered": 0,
        "multiple": terms.multiple,
        "max_bet": terms.max_bet,
        "max_conversion": terms.max_conversion,
        "game_weights": dict(terms.game_weights),
        "expires_after_s": terms.expires_after_s,
        "claimed_at": request.claimed_at,
        "expires_at": request.claimed_at + timedelta(seconds=window_s or terms.expires_after_s),
    }


def _claim_row(request: ClaimRequest, identity: str | None) -> dict[str, object]:
    return {
        "bonus_id": request.bonus_id,
        "user_id": request.user_id,
        "offer": request.offer.code,
        "welcome": request.offer.welcome,
        "identity_key": identity,
        "device_fingerprint": request.device_fingerprint,
        "claimed_at": request.claimed_at,
    }


def _refusal(error: IntegrityError) -> Exception:
    message = str(error.orig)
    if "uq_bonuses_one_open" in message:
        return BonusAlreadyOpen("you already have an open bonus in this currency")
    if "uq_bonus_claims_welcome_user_id" in message:
        return WelcomeBonusTaken("this account has already claimed its welcome bonus")
    if "uq_bonus_claims_welcome_identity_key" in message:
        return WelcomeBonusTaken("a welcome bonus was already claimed with this verified identity")
    if "uq_bonus_claims_welcome_device_fingerprint" in message:
        return WelcomeBonusTaken("a welcome bonus was already claimed from this device")
    if "uq_bonus_claims_welcome_deposit_from_address" in message:
        return WelcomeBonusTaken("a welcome bonus was already claimed from this deposit address")
    return error
