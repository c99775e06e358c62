"""A bonus as its table row holds it, and the reads the workflow, the API and the
settlement hook share."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, select

from croupier.bonus.errors import BonusNotFound
from croupier.bonus.offers import BonusKind
from croupier.bonus.rules import WageringTerms
from croupier.bonus.tables import bonuses
from croupier.core.money import Currency
from croupier.ledger.connections import Bind, single_statement

# A player sees this many of their latest bonuses.
MAX_LISTED = 50


class BonusStatus(StrEnum):
    PENDING = "pending"  # claimed; a deposit match waits for its deposit
    ACTIVE = "active"  # granted, being wagered
    WAGERED = "wagered"  # requirement met; the funds wait for the release
    RELEASED = "released"  # converted to cash (up to the max conversion)
    FORFEITED = "forfeited"  # cancelled, or a withdrawal was requested
    EXPIRED = "expired"

    @property
    def open(self) -> bool:
        return self in (BonusStatus.PENDING, BonusStatus.ACTIVE, BonusStatus.WAGERED)


@dataclass(frozen=True, slots=True)
class BonusRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    currency: Currency
    offer: str
    kind: BonusKind
    status: BonusStatus
    amount: int
    wagering_required: int
    wagered: int
    terms: WageringTerms
    claimed_at: datetime
    expires_at: datetime
    activated_at: datetime | None
    closed_at: datetime | None
    released: int | None
    returned: int | None
    deposit_id: str | None


def get_bonus(bind: Bind, bonus_id: uuid.UUID, *, for_update: bool = False) -> BonusRecord:
    query = select(bonuses).where(bonuses.c.id == bonus_id)
    if for_update:
        query = query.with_for_update()
    with single_statement(bind) as conn:
        row = conn.execute(query).one_or_none()
    if row is None:
        raise BonusNotFound(f"bonus {bonus_id} does not exist")
    return bonus_from_row(row)


def open_bonus(
    conn: Connection, user_id: uuid.UUID, currency: Currency, *, for_update: bool = False
) -> BonusRecord | None:
    """The player's open bonus in ``currency`` (there is at most one)."""
    query = select(bonuses).where(
        bonuses.c.user_id == user_id,
        bonuses.c.currency == currency.value,
        bonuses.c.status.in_([s.value for s in BonusStatus if s.open]),
    )
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    return None if row is None else bonus_from_row(row)


def player_bonuses(bind: Bind, user_id: uuid.UUID) -> Sequence[BonusRecord]:
    """The player's latest bonuses, newest first."""
    query = (
        select(bonuses)
        .where(bonuses.c.user_id == user_id)
        .order_by(bonuses.c.claimed_at.desc())
        .limit(MAX_LISTED)
    )
    with single_statement(bind) as conn:
        return [bonus_from_row(row) for row in conn.execute(query)]


def bonus_from_row(row: Row[Any]) -> BonusRecord:
    return BonusRecord(
        id=row.id,
        user_id=row.user_id,
        currency=Currency(row.currency),
        offer=row.offer,
        kind=BonusKind(row.kind),
        status=BonusStatus(row.status),
        amount=row.amount,
        wagering_required=row.wagering_required,
        wagered=row.wagered,
        terms=WageringTerms(
            multiple=row.multiple,
            max_bet=row.max_bet,
            max_conversion=row.max_conversion,
            expires_after_s=row.expires_after_s,
            game_weights=row.game_weights,
        ),
        claimed_at=row.claimed_at,
        expires_at=row.expires_at,
        activated_at=row.activated_at,
        closed_at=row.closed_at,
        released=row.released,
        returned=row.returned,
        deposit_id=row.deposit_id,
    )
