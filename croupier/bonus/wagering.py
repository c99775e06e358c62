"""Wagering a bonus with bets, inside each bet's settlement transaction.

For a player with an active bonus, a new bet:

- is refused above the bonus's max bet (``BonusMaxBetExceeded``);
- spends cash first, then bonus; its win returns in the same proportions
  (:func:`croupier.bonus.rules.split_stake`);
- contributes its stake times its game's weight toward the requirement, unless it
  hedges the previous bet (:mod:`croupier.bonus.patterns`);
- leaves a ``bonus_wagering`` row keyed by the bet id (a bet counts once);
- flips the bonus to ``wagered`` when the requirement is met, which freezes its funds
  for the workflow's release: later bets are cash only and count nothing.

A game staked before it is played (a mines game at open, a crash bet when placed) is
funded in two steps, with the same rules: :func:`fund_bet` when the stake is taken
(max bet, the stake's split, the row), :func:`settle_staked` when it settles (the
payout's share from the stored split, the contribution, under the bonus as it is
then). A bonus that ended while the bet was in play takes no share of its payout: the
share returns to promotions, as what was left of the bonus did.

The bonus row is locked for the transaction, so bets and the workflow's grant,
release or forfeit of the same bonus happen one after the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select, update

from croupier.bonus.patterns import CountedBet, is_hedge
from croupier.bonus.records import BonusRecord, BonusStatus, get_bonus, open_bonus
from croupier.bonus.rules import StakeSplit, check_max_bet, split_stake
from croupier.bonus.tables import bonus_wagering, bonuses
from croupier.core.money import Currency
from croupier.games.game import JsonValue
from croupier.ledger.accounts import player_account, system_account
from croupier.ledger.balances import balance
from croupier.ledger.kinds import AccountKind


@dataclass(frozen=True, slots=True)
class WageredBet:
    """A new bet as wagering sees it: settled but not yet written (``payout`` and
    ``settled_at`` known), or staked now and played later (both None)."""

    bet_id: uuid.UUID
    user_id: uuid.UUID
    game: str
    currency: Currency
    stake: int
    payout: int | None
    params: Mapping[str, JsonValue]
    placed_at: datetime
    settled_at: datetime | None
    cash_account_id: int


@dataclass(frozen=True, slots=True)
class Funding:
    """How a bet was funded under a bonus, and where the bonus's wagering stands.

    ``payout_account_id`` takes the payout's bonus share: the bonus account, or
    promotions once the bonus has ended. ``settled``: the bet has its result (a bet
    staked for later play has only its stake's split yet)."""

    bonus_id: uuid.UUID
    bonus_account_id: int
    payout_account_id: int
    split: StakeSplit
    contribution: int
    wagered: int
    required: int
    settled: bool

    @property
    def complete(self) -> bool:
        return self.wagered >= self.required


def fund_bet(conn: Connection, bet: WageredBet, *, hedge_window: timedelta) -> Funding | None:
    """Fund ``bet``'s stake under the player's active bonus and, when it is settled
    already, its payout and its contribution; None when there is no active bonus (or it
    ran out of time, and only its expiry is left to process)."""
    bonus = open_bonus(conn, bet.user_id, bet.currency, for_update=True)
    if bonus is None or bonus.status is not BonusStatus.ACTIVE or bet.placed_at >= bonus.expires_at:
        return None
    check_max_bet(bet.stake, bonus.terms.max_bet)
    cash = balance(conn, bet.cash_account_id).available
    split = split_stake(bet.stake, bet.payout or 0, cash_available=cash)
    counted = CountedBet(bet.game, bet.params, bet.placed_at)
    hedge = is_hedge(_last_bet(conn, bonus.id), counted, hedge_window)
    settled = bet.settled_at is not None
    contribution = bonus.terms.contribution(bet.game, bet.stake) if settled and not hedge else 0
    conn.execute(
        bonus_wagering.insert().values(
            bet_id=bet.bet_id,
            bonus_id=bonus.id,
            game=bet.game,
            params=dict(bet.params),
            stake=bet.stake,
            stake_bonus=split.stake_bonus,
            payout=bet.payout or 0,
            payout_bonus=split.payout_bonus,
            contribution=contribution,
            hedge=hedge,
            placed_at=bet.placed_at,
            settled_at=bet.settled_at,
        )
    )
    bonus_account = _bonus_account(conn, bonus)
    return _counted(conn, bonus, split, contribution, bonus_account, bonus_account, settled)


def settle_staked(
    conn: Connection, bet_id: uuid.UUID, payout: int | None, settled_at: datetime | None
) -> Funding | None:
    """A bet funded by :func:`fund_bet` while open: the split its stake was taken with
    and, once it settles (``payout``, ``settled_at``), its payout's share and its
    contribution, counted once. None: no bonus took part in its stake."""
    row = conn.execute(
        select(bonus_wagering).where(bonus_wagering.c.bet_id == bet_id)
    ).one_or_none()
    if row is None:
        return None
    bonus = get_bonus(conn, row.bonus_id, for_update=True)
    bonus_account = _bonus_account(conn, bonus)
    if payout is None or settled_at is None:
        return _staked(row, bonus, bonus_account)
    assert row.settled_at is None, f"bet {bet_id} settles once"
    split = split_stake(row.stake, payout, cash_available=row.stake - row.stake_bonus)
    counts = bonus.status is BonusStatus.ACTIVE and settled_at < bonus.expires_at and not row.hedge
    contribution = bonus.terms.contribution(row.game, row.stake) if counts else 0
    conn.execute(
        update(bonus_wagering)
        .where(bonus_wagering.c.bet_id == bet_id)
        .values(
            payout=payout,
            payout_bonus=split.payout_bonus,
            contribution=contribution,
            settled_at=settled_at,
        )
    )
    payout_account = bonus_account
    if not bonus.status.open:
        payout_account = system_account(conn, AccountKind.PROMOTIONS, bonus.currency).id
    return _counted(conn, bonus, split, contribution, bonus_account, payout_account, True)


def _counted(
    conn: Connection,
    bonus: BonusRecord,
    split: StakeSplit,
    contribution: int,
    bonus_account: int,
    payout_account: int,
    settled: bool,
) -> Funding:
    """Add ``contribution`` to the bonus; the requirement met flips it to wagered."""
    wagered = bonus.wagered + contribution
    if contribution:
        status = BonusStatus.WAGERED if wagered >= bonus.wagering_required else bonus.status
        conn.execute(
            update(bonuses)
            .where(bonuses.c.id == bonus.id)
            .values(wagered=wagered, status=status.value)
        )
    return Funding(
        bonus.id,
        bonus_account,
        payout_account,
        split,
        contribution,
        wagered,
        bonus.wagering_required,
        settled,
    )


def _staked(row: Row[Any], bonus: BonusRecord, bonus_account: int) -> Funding:
    """The stake's split of a bet in play, as ``row`` recorded it."""
    split = StakeSplit(row.stake - row.stake_bonus, row.stake_bonus, 0, 0)
    return Funding(
        bonus.id,
        bonus_account,
        bonus_account,
        split,
        0,
        bonus.wagered,
        bonus.wagering_required,
        False,
    )


def _bonus_account(conn: Connection, bonus: BonusRecord) -> int:
    return player_account(conn, str(bonus.user_id), AccountKind.PLAYER_BONUS, bonus.currency).id


def _last_bet(conn: Connection, bonus_id: uuid.UUID) -> CountedBet | None:
    row = conn.execute(
        select(bonus_wagering.c.game, bonus_wagering.c.params, bonus_wagering.c.placed_at)
        .where(bonus_wagering.c.bonus_id == bonus_id)
        .order_by(bonus_wagering.c.placed_at.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else CountedBet(row.game, row.params, row.placed_at)
