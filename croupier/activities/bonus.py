"""Bonus activities: thin adapters from the Bonus and session workflows to
``croupier.bonus``, and the payloads those workflows exchange.

Every step is one transaction, idempotent by the bonus id (its ledger transfers are
keyed ``bonus-<id>-grant`` / ``-release`` / ``-return``). Times come from the calling
workflow (``now``), so expiry is measured on the clock its durable timer runs on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.failures import maps_business_failures
from croupier.bonus import lifecycle
from croupier.bonus.deposits import QualifyingDeposit
from croupier.bonus.lifecycle import Ending
from croupier.bonus.records import BonusRecord, BonusStatus, open_bonus
from croupier.core.money import Currency, parse_minor_units


@dataclass(frozen=True)
class BonusView:
    """A bonus as workflows and players see it; amounts are decimal strings."""

    bonus_id: str
    user_id: str
    currency: str
    offer: str
    status: str
    amount: str
    wagered: str
    required: str
    max_bet: str
    expires_at: datetime
    released: str | None = None
    returned: str | None = None

    @classmethod
    def of(cls, bonus: BonusRecord) -> BonusView:
        return cls(
            bonus_id=str(bonus.id),
            user_id=str(bonus.user_id),
            currency=bonus.currency.value,
            offer=bonus.offer,
            status=bonus.status.value,
            amount=str(bonus.amount),
            wagered=str(bonus.wagered),
            required=str(bonus.wagering_required),
            max_bet=str(bonus.terms.max_bet),
            expires_at=bonus.expires_at,
            released=None if bonus.released is None else str(bonus.released),
            returned=None if bonus.returned is None else str(bonus.returned),
        )

    @property
    def open(self) -> bool:
        return BonusStatus(self.status).open


@dataclass(frozen=True)
class SessionBonus:
    """What a player's session must know of their active bonus: whom to tell about
    wagering, and the max bet its validator enforces."""

    bonus_id: str
    workflow_id: str
    max_bet: str


@dataclass(frozen=True)
class WageringProgress:
    """Where a bonus's wagering stands after a bet (weighted minor units)."""

    bonus_id: str
    wagered: str
    required: str

    @property
    def complete(self) -> bool:
        return int(self.wagered) >= int(self.required)


@dataclass(frozen=True)
class DepositCredited:
    """A credited deposit, as the deposit workflow reports it to a pending match."""

    deposit_id: str
    amount: str
    from_address: str | None = None


@dataclass(frozen=True)
class ActivateInput:
    bonus_id: str
    now: datetime
    deposit: DepositCredited | None = None


@dataclass(frozen=True)
class FinishInput:
    bonus_id: str
    ending: str
    now: datetime


@dataclass(frozen=True)
class PlayerCurrency:
    user_id: str
    currency: str


@dataclass(frozen=True)
class OpenBonus:
    """A player's open bonus, for the payment workflows that move it on: a credited
    deposit grants a pending match, a withdrawal request forfeits an active bonus."""

    workflow_id: str
    status: str


def bonus_workflow_id(bonus_id: str) -> str:
    return f"bonus-{bonus_id}"


class BonusActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="bonus.activate")
    @maps_business_failures
    def activate(self, request: ActivateInput) -> BonusView:
        deposit = request.deposit
        qualifying = None
        if deposit is not None:
            qualifying = QualifyingDeposit(
                deposit.deposit_id, parse_minor_units(deposit.amount), deposit.from_address
            )
        bonus = lifecycle.activate(
            self._engine, uuid.UUID(request.bonus_id), now=request.now, deposit=qualifying
        )
        return BonusView.of(bonus)

    @activity.defn(name="bonus.finish")
    @maps_business_failures
    def finish(self, request: FinishInput) -> BonusView:
        bonus = lifecycle.finish(
            self._engine, uuid.UUID(request.bonus_id), Ending(request.ending), now=request.now
        )
        return BonusView.of(bonus)

    @activity.defn(name="bonus.session_bonus")
    @maps_business_failures
    def session_bonus(self, request: PlayerCurrency) -> SessionBonus | None:
        """The player's active bonus, for a session starting afresh."""
        with self._engine.connect() as conn:
            bonus = open_bonus(conn, uuid.UUID(request.user_id), Currency.parse(request.currency))
        if bonus is None or bonus.status is not BonusStatus.ACTIVE:
            return None
        return SessionBonus(
            str(bonus.id), bonus_workflow_id(str(bonus.id)), str(bonus.terms.max_bet)
        )

    @activity.defn(name="bonus.open_bonus")
    @maps_business_failures
    def player_open_bonus(self, request: PlayerCurrency) -> OpenBonus | None:
        """The player's open bonus in the currency (at most one), or None."""
        with self._engine.connect() as conn:
            bonus = open_bonus(conn, uuid.UUID(request.user_id), Currency.parse(request.currency))
        if bonus is None:
            return None
        return OpenBonus(bonus_workflow_id(str(bonus.id)), bonus.status.value)
