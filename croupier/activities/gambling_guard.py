"""Responsible-gambling limits applied where stakes are taken.

``croupier.betting`` and ``croupier.crash`` know nothing of compliance; betting's
``Settler`` and crash's ``place_bet`` take a guard. This module builds that one guard
from the compliance rules, so a self-excluded or cooling-off player, or one whose loss
limit the stake would cross, is refused inside the same transaction that would have
taken the stake, whatever the game. Withdrawals and cash-outs never pass through here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Connection, text

from croupier.betting.bets import net_loss
from croupier.compliance.limits import check_bet, gambling_restrictions
from croupier.core.clock import Clock
from croupier.core.money import Currency


class Stake(Protocol):
    """What the guard reads of a bet: a seeded bet (dice, limbo, plinko, mines) and a
    crash bet both have it."""

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def currency(self) -> Currency: ...

    @property
    def amount(self) -> int: ...


StakeGuard = Callable[[Connection, Stake], None]


def responsible_gambling_guard(clock: Clock) -> StakeGuard:
    def guard(conn: Connection, stake: Stake) -> None:
        restrictions = gambling_restrictions(conn, stake.user_id)
        now = clock.now()
        periods = restrictions.loss_periods(stake.currency)
        if periods:
            _lock_losses(conn, stake.user_id, stake.currency)
        losses = {
            period: net_loss(conn, stake.user_id, stake.currency, now - period.window)
            for period in periods
        }
        check_bet(
            restrictions,
            now=now,
            currency=stake.currency,
            stake_minor=stake.amount,
            net_loss_minor=losses,
        )

    return guard


def _lock_losses(conn: Connection, user_id: uuid.UUID, currency: Currency) -> None:
    """Serialize, until the transaction ends, the stakes a loss limit is checked for.

    Seeded bets are serialized per player already (betting's session lock), but a crash
    stake is not: without this, a crash bet and a dice bet checked at once could each
    fit under the limit and together cross it. Only players with a loss limit pay it.
    """
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"loss-limit:{user_id}:{currency.value}"},
    )
