"""Cashback and rakeback: what a player earned in a reward period, paid once, in cash.

For every player and currency with bets settled in a closed period:

- wagered: the cash-funded stakes. The bonus-funded part of a bet (``bonus_wagering``)
  earns nothing: promotions do not pay back promotions;
- net loss: cash staked minus cash paid back (negative when the player won);
- cashback: ``cashback_percent`` of the net loss, nothing when the player won;
- VIP level: from lifetime cash volume (every period counted so far, this one included);
- rakeback: the level's percent of the house's expected take, each game's house edge
  times its volume.

Both move from promotions to the player's cash in one transaction with the period's
``reward_periods`` row. The row's key makes a period paid once (a second run finds it
and moves nothing); the transfer ids (``cashback-<user>-<currency>-<period>``,
``rakeback-...``) would refuse a second movement even without it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, func, select
from sqlalchemy.dialects.postgresql import insert

from croupier.betting.bets import BetStatus
from croupier.betting.tables import bets
from croupier.bonus import rules
from croupier.bonus.periods import Period, period_containing
from croupier.bonus.rules import VipLevel
from croupier.bonus.tables import bonus_wagering, reward_periods
from croupier.bonus.vip import ladder, next_level
from croupier.core.money import Currency
from croupier.games.edge import DEFAULT_HOUSE_EDGES, HouseEdges
from croupier.ledger.accounts import player_account, system_account
from croupier.ledger.connections import Bind, snapshot, transaction
from croupier.ledger.kinds import AccountKind, TransferType
from croupier.ledger.posting import transfer
from croupier.ledger.requests import TransferRequest

# A bet settles within this of being placed (a mines game waits at most 7 days for a
# move); it bounds the partitions of ``bets`` a period's query reads.
MAX_OPEN_BET_AGE = timedelta(days=8)
# Rows fetched at a time while a run walks a period's players.
STREAM_ROWS = 500


@dataclass(frozen=True, slots=True)
class RewardTerms:
    cashback_percent: int
    edges: HouseEdges = DEFAULT_HOUSE_EDGES

    def edge(self, game: str) -> Fraction:
        """The game's house edge; a game without one (none today) earns no rakeback."""
        by_game = {item.name: getattr(self.edges, item.name) for item in fields(self.edges)}
        edge: Fraction = by_game.get(game, Fraction(0))
        return edge


@dataclass(frozen=True, slots=True)
class PeriodPlay:
    """A player's cash play in one currency over (part of) a period."""

    user_id: uuid.UUID
    currency: Currency
    wagered_by_game: Mapping[str, int]
    paid: int

    @property
    def wagered(self) -> int:
        return sum(self.wagered_by_game.values())

    @property
    def net_loss(self) -> int:
        return self.wagered - self.paid


@dataclass(frozen=True, slots=True)
class PeriodReward:
    play: PeriodPlay
    level: VipLevel
    cashback: int
    rakeback: int


@dataclass
class RewardTotals:
    """What a run paid, per currency (minor units)."""

    players: int = 0
    paid_players: int = 0
    cashback: dict[str, int] = field(default_factory=dict)
    rakeback: dict[str, int] = field(default_factory=dict)

    def add(self, reward: PeriodReward | None) -> None:
        self.players += 1
        if reward is None:
            return
        self.paid_players += 1
        currency = reward.play.currency.value
        self.cashback[currency] = self.cashback.get(currency, 0) + reward.cashback
        self.rakeback[currency] = self.rakeback.get(currency, 0) + reward.rakeback


@dataclass(frozen=True, slots=True)
class VipStatus:
    """A player's standing in one currency, and what the current period has earned so far
    (paid after it ends)."""

    currency: Currency
    level: VipLevel
    next_level: VipLevel | None
    lifetime_wagered: int
    period: Period
    period_wagered: int
    accrued_cashback: int
    accrued_rakeback: int


def earned(play: PeriodPlay, lifetime_before: int, terms: RewardTerms) -> PeriodReward:
    """What ``play`` earns, after ``lifetime_before`` of volume counted in earlier periods."""
    level = rules.vip_level(lifetime_before + play.wagered, ladder(play.currency))
    return PeriodReward(
        play=play,
        level=level,
        cashback=rules.cashback(play.net_loss, terms.cashback_percent),
        rakeback=rules.rakeback(play.wagered, _house_edge(play, terms), level.rakeback_percent),
    )


def pay_period(
    engine: Engine,
    period: Period,
    terms: RewardTerms,
    *,
    now: datetime,
    progress: Callable[[RewardTotals], None] = lambda totals: None,
) -> RewardTotals:
    """Pay every player who played in ``period`` (ended by ``now``), one transaction
    each; ``progress`` is called after each (an activity heartbeats there)."""
    totals = RewardTotals()
    with engine.connect() as reader:
        rows = reader.execution_options(stream_results=True, yield_per=STREAM_ROWS).execute(
            _plays_query(period)
        )
        for play in _grouped(rows):
            totals.add(pay_player(engine, period, play, terms, now=now))
            progress(totals)
    return totals


def pay_player(
    bind: Bind, period: Period, play: PeriodPlay, terms: RewardTerms, *, now: datetime
) -> PeriodReward | None:
    """Record and pay the player's period, or None if it was already."""
    with transaction(bind) as conn:
        reward = earned(play, _lifetime(conn, play.user_id, play.currency), terms)
        recorded = conn.execute(
            insert(reward_periods)
            .values(
                user_id=play.user_id,
                currency=play.currency.value,
                period_start=period.start,
                period_end=period.end,
                wagered=play.wagered,
                net_loss=play.net_loss,
                vip_level=reward.level.level,
                rakeback_percent=reward.level.rakeback_percent,
                cashback=reward.cashback,
                rakeback=reward.rakeback,
                paid_at=now,
            )
            .on_conflict_do_nothing()
            .returning(reward_periods.c.user_id)
        ).one_or_none()
        if recorded is None:
            return None
        _pay(conn, period, play, "cashback", reward.cashback, TransferType.CASHBACK)
        _pay(conn, period, play, "rakeback", reward.rakeback, TransferType.RAKEBACK)
        return reward


def vip_status(
    bind: Bind,
    user_id: uuid.UUID,
    currency: Currency,
    terms: RewardTerms,
    *,
    now: datetime,
    period_s: int,
) -> VipStatus:
    """The player's VIP level and what the running period has earned so far."""
    period = period_containing(now, period_s)
    with snapshot(bind) as conn:
        lifetime = _lifetime(conn, user_id, currency)
        plays = list(_grouped(conn.execute(_plays_query(period, user_id, currency))))
    play = plays[0] if plays else PeriodPlay(user_id, currency, {}, 0)
    reward = earned(play, lifetime, terms)
    return VipStatus(
        currency=currency,
        level=reward.level,
        next_level=next_level(reward.level, currency),
        lifetime_wagered=lifetime + play.wagered,
        period=period,
        period_wagered=play.wagered,
        accrued_cashback=reward.cashback,
        accrued_rakeback=reward.rakeback,
    )


def transfer_id(kind: str, play: PeriodPlay, period: Period) -> str:
    return f"{kind}-{play.user_id}-{play.currency.value}-{period.key}"


def _pay(
    conn: Connection,
    period: Period,
    play: PeriodPlay,
    kind: str,
    amount: int,
    transfer_type: TransferType,
) -> None:
    if amount == 0:
        return
    cash = player_account(conn, str(play.user_id), AccountKind.PLAYER_CASH, play.currency)
    promotions = system_account(conn, AccountKind.PROMOTIONS, play.currency)
    transfer(
        conn,
        TransferRequest(
            id=transfer_id(kind, play, period),
            debit_account_id=promotions.id,
            credit_account_id=cash.id,
            amount=amount,
            currency=play.currency,
            type=transfer_type,
            reference_id=f"rewards-{play.user_id}-{play.currency.value}-{period.key}",
        ),
    )


def _house_edge(play: PeriodPlay, terms: RewardTerms) -> Fraction:
    """The volume-weighted edge of the games played: the expected take over volume."""
    if play.wagered == 0:
        return Fraction(0)
    take = sum(
        (terms.edge(game) * volume for game, volume in play.wagered_by_game.items()),
        Fraction(0),
    )
    return take / play.wagered


def _lifetime(conn: Connection, user_id: uuid.UUID, currency: Currency) -> int:
    counted = conn.execute(
        select(func.coalesce(func.sum(reward_periods.c.wagered), 0)).where(
            reward_periods.c.user_id == user_id,
            reward_periods.c.currency == currency.value,
        )
    ).scalar_one()
    return int(counted)


def _plays_query(
    period: Period, user_id: uuid.UUID | None = None, currency: Currency | None = None
) -> Select[Any]:
    """Cash staked and paid per player, currency and game, for bets settled in the period."""
    stake_cash = bets.c.amount - func.coalesce(bonus_wagering.c.stake_bonus, 0)
    payout_cash = bets.c.payout - func.coalesce(bonus_wagering.c.payout_bonus, 0)
    query = (
        select(
            bets.c.user_id,
            bets.c.currency,
            bets.c.game,
            func.sum(stake_cash).label("staked"),
            func.sum(payout_cash).label("paid"),
        )
        .select_from(bets.outerjoin(bonus_wagering, bonus_wagering.c.bet_id == bets.c.id))
        .where(
            bets.c.status == BetStatus.SETTLED.value,
            bets.c.settled_at >= period.start,
            bets.c.settled_at < period.end,
            bets.c.created_at >= period.start - MAX_OPEN_BET_AGE,
            bets.c.created_at < period.end,
        )
        .group_by(bets.c.user_id, bets.c.currency, bets.c.game)
        .order_by(bets.c.user_id, bets.c.currency, bets.c.game)
    )
    if user_id is not None:
        query = query.where(bets.c.user_id == user_id)
    if currency is not None:
        query = query.where(bets.c.currency == currency.value)
    return query


def _grouped(rows: Iterator[Row[Any]]) -> Iterator[PeriodPlay]:
    """One ``PeriodPlay`` per run of rows of the same player and currency."""
    for (user_id, currency), games in itertools.groupby(
        rows, key=lambda row: (row.user_id, row.currency)
    ):
        wagered: dict[str, int] = {}
        paid = 0
        for row in games:
            wagered[row.game] = int(row.staked)
            paid += int(row.paid)
        yield PeriodPlay(user_id, Currency(currency), wagered, paid)
