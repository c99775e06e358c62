"""Request and response bodies of the bonus routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from croupier.activities.bonus import BonusView
from croupier.api.fields import MinorUnits, Reason
from croupier.api.play.models import CurrencyCode
from croupier.bonus.offers import Offer
from croupier.bonus.rewards import VipStatus

OfferCode = Field(min_length=1, max_length=64, examples=["welcome-match"])


class ClaimBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer: str = OfferCode
    currency: CurrencyCode
    device_fingerprint: str | None = Field(
        default=None,
        max_length=256,
        description="the client's device fingerprint; one welcome bonus per device",
    )


class StaffGrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    offer: str = OfferCode
    currency: CurrencyCode
    reason: Reason


class BonusResponse(BaseModel):
    """A bonus and its wagering: ``wagered`` of ``required`` (weighted minor units)."""

    bonus_id: str
    offer: str
    currency: str
    status: str
    amount: MinorUnits
    wagered: MinorUnits
    required: MinorUnits
    max_bet: MinorUnits
    expires_at: datetime
    released: MinorUnits | None = None
    returned: MinorUnits | None = None

    @classmethod
    def of(cls, view: BonusView) -> BonusResponse:
        return cls(
            bonus_id=view.bonus_id,
            offer=view.offer,
            currency=view.currency,
            status=view.status,
            amount=view.amount,
            wagered=view.wagered,
            required=view.required,
            max_bet=view.max_bet,
            expires_at=view.expires_at,
            released=view.released,
            returned=view.returned,
        )


class OfferResponse(BaseModel):
    code: str
    kind: str
    title: str
    welcome: bool
    wagering_multiple: int
    expires_after_s: int
    currencies: list[str]

    @classmethod
    def of(cls, offer: Offer) -> OfferResponse:
        return cls(
            code=offer.code,
            kind=offer.kind.value,
            title=offer.title,
            welcome=offer.welcome,
            wagering_multiple=offer.multiple,
            expires_after_s=offer.expires_after_s,
            currencies=sorted(offer.amounts),
        )


class BonusesResponse(BaseModel):
    offers: list[OfferResponse]
    bonuses: list[BonusResponse]


class VipLevelResponse(BaseModel):
    """A player's VIP standing in one currency (each currency has its own ladder), and
    what the running reward period has earned so far: paid in cash once it ends."""

    currency: str
    level: int
    rakeback_percent: int
    lifetime_wagered: MinorUnits
    next_level: int | None
    next_level_at: MinorUnits | None
    period_start: datetime
    period_end: datetime
    period_wagered: MinorUnits
    accrued_cashback: MinorUnits
    accrued_rakeback: MinorUnits

    @classmethod
    def of(cls, status: VipStatus) -> VipLevelResponse:
        above = status.next_level
        return cls(
            currency=status.currency.value,
            level=status.level.level,
            rakeback_percent=status.level.rakeback_percent,
            lifetime_wagered=str(status.lifetime_wagered),
            next_level=None if above is None else above.level,
            next_level_at=None if above is None else str(above.min_wagered),
            period_start=status.period.start,
            period_end=status.period.end,
            period_wagered=str(status.period_wagered),
            accrued_cashback=str(status.accrued_cashback),
            accrued_rakeback=str(status.accrued_rakeback),
        )


class VipResponse(BaseModel):
    cashback_percent: int
    levels: list[VipLevelResponse]
