"""Crash activities: thin adapters from the round workflow's payloads to ``croupier.crash``.

Each is idempotent by a business key: opening by the round (its crash point is fixed
at the first open), staking by the bet id, settling by the round. Staking passes the
responsible-gambling guard every other game's stake passes (``gambling_guard``);
settling, which pays cash-outs of bets already placed, does not. A player's active
bonus funds and counts crash bets as it does every other game (``bonus_funding``):
the stake is split when placed, the win paid back pro rata at the crash, and the
settlement reports each bonus's wagering for the round to tell. Payloads carry
amounts as decimal strings of minor units; the crash point is in the workflow's
history (ops can read it there as in the database), never in anything players see
before the crash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from temporalio import activity

from croupier.activities.bonus import WageringProgress
from croupier.activities.bonus_funding import BonusFunding
from croupier.activities.failures import maps_business_failures
from croupier.activities.gambling_guard import responsible_gambling_guard
from croupier.betting.movements import BetAccounts
from croupier.core.clock import Clock
from croupier.core.ids import parse_uuid
from croupier.core.money import Currency, parse_minor_units
from croupier.core.settings import Settings
from croupier.crash.bets import CrashBet, place_bet
from croupier.crash.chain import get_chain
from croupier.crash.curve import Curve
from croupier.crash.rounds import RoundKey, next_round_to_play, open_round
from croupier.crash.settlement import RoundBet, settle_round
from croupier.games.crash import Crash
from croupier.games.targets import MAX_TARGET_H


@dataclass(frozen=True)
class RoundRef:
    chain_id: int
    round_number: int

    @classmethod
    def of(cls, key: RoundKey) -> RoundRef:
        return cls(key.chain_id, key.round_number)

    def key(self) -> RoundKey:
        return RoundKey(self.chain_id, self.round_number)


@dataclass(frozen=True)
class OpenRoundInput:
    round: RoundRef | None  # None: where the database says play stopped


@dataclass(frozen=True)
class RoundRules:
    """How a round is played, from the worker's settings when the round opens."""

    betting_window_s: int
    growth_per_ms: str  # an exact decimal: the curve's constant
    accepting_bets: bool  # crash is among the enabled games
    max_bets: dict[str, str]  # currency -> largest stake in minor units; absent: no bets


@dataclass(frozen=True)
class OpenedRound:
    round: RoundRef
    round_id: str
    crash_point_h: int
    max_multiplier_h: int
    terminating_hash: str  # public: the chain's commitment
    salt: str  # public
    rules: RoundRules

    @property
    def end_h(self) -> int:
        """Where the multiplier stops: the crash point, or the cap if it comes first."""
        return min(self.crash_point_h, self.max_multiplier_h)


@dataclass(frozen=True)
class StakeInput:
    bet_id: str
    user_id: str
    currency: str
    amount: str
    round: RoundRef
    placed_at: datetime


@dataclass(frozen=True)
class StakeTaken:
    bet_id: str
    player_cash_account_id: int
    house_account_id: int
    # The bonus the bet is wagered under (part of its stake may be bonus money).
    bonus_id: str | None = None


@dataclass(frozen=True)
class SettlingBet:
    stake: StakeInput
    taken: StakeTaken
    cashed_out_h: int | None


@dataclass(frozen=True)
class SettleRoundInput:
    round: RoundRef
    started_at: datetime
    ended_at: datetime
    bets: tuple[SettlingBet, ...]


@dataclass(frozen=True)
class BetSettled:
    bet_id: str
    cashed_out_h: int | None  # the cash-out, or the cap; None: lost at the crash
    payout: str


@dataclass(frozen=True)
class RoundSettled:
    round_id: str
    crash_point_h: int
    game_hash: str  # revealed now that the round is over
    bets: tuple[BetSettled, ...]
    replayed: bool
    # Where each bonus that bets of the round were wagered under stands now.
    wagering: tuple[WageringProgress, ...] = ()


class CrashActivities:
    def __init__(self, engine: Engine, settings: Settings, clock: Clock) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._guard = responsible_gambling_guard(clock)

    @activity.defn(name="crash.open_round")
    @maps_business_failures
    def open_round(self, request: OpenRoundInput) -> OpenedRound:
        key = request.round.key() if request.round else next_round_to_play(self._engine)
        opened = open_round(self._engine, key, max_multiplier_h=self._max_multiplier_h())
        chain = get_chain(self._engine, opened.key.chain_id)
        return OpenedRound(
            round=RoundRef.of(opened.key),
            round_id=opened.key.id,
            crash_point_h=opened.crash_point_h,
            max_multiplier_h=opened.max_multiplier_h,
            terminating_hash=chain.terminating_hash,
            salt=chain.salt,
            rules=self._rules(),
        )

    @activity.defn(name="crash.take_stake")
    @maps_business_failures
    def take_stake(self, request: StakeInput) -> StakeTaken:
        funding = BonusFunding()
        accounts = place_bet(self._engine, _crash_bet(request), self._guard, funding)
        return StakeTaken(
            request.bet_id,
            accounts.player_cash_id,
            accounts.house_id,
            funding.funded.get(request.bet_id),
        )

    @activity.defn(name="crash.settle_round")
    @maps_business_failures
    def settle_round(self, request: SettleRoundInput) -> RoundSettled:
        bets = [
            RoundBet(
                bet=_crash_bet(bet.stake),
                accounts=BetAccounts(bet.taken.player_cash_account_id, bet.taken.house_account_id),
                cashed_out_h=bet.cashed_out_h,
                split=bet.taken.bonus_id is not None,
            )
            for bet in request.bets
        ]
        funding = BonusFunding()
        settled = settle_round(
            self._engine,
            request.round.key(),
            bets,
            started_at=request.started_at,
            ended_at=request.ended_at,
            settled_at=self._clock.now(),
            splitter=funding,
        )
        return RoundSettled(
            round_id=settled.round.key.id,
            crash_point_h=settled.round.crash_point_h,
            game_hash=settled.round.game_hash,
            bets=tuple(
                BetSettled(outcome.bet_id, outcome.cashed_out_h, str(outcome.payout))
                for outcome in settled.outcomes
            ),
            replayed=settled.replayed,
            wagering=tuple(funding.wagering.values()),
        )

    def _max_multiplier_h(self) -> int:
        """The cap: where the curve is after the longest round, at most the largest
        target the game accepts."""
        curve = Curve(self._settings.crash_growth_per_ms)
        longest_ms = self._settings.crash_max_round_duration_s * 1000
        return min(MAX_TARGET_H, curve.multiplier_h(longest_ms))

    def _rules(self) -> RoundRules:
        settings = self._settings
        return RoundRules(
            betting_window_s=settings.crash_betting_window_s,
            growth_per_ms=str(settings.crash_growth_per_ms),
            accepting_bets=Crash.name in settings.games_enabled,
            max_bets={
                currency.value: str(limit)
                for currency in Currency
                if (limit := settings.max_bet_minor_units(currency)) > 0
            },
        )


def _crash_bet(stake: StakeInput) -> CrashBet:
    return CrashBet(
        id=uuid.UUID(parse_uuid(stake.bet_id, what="bet id")),
        user_id=uuid.UUID(parse_uuid(stake.user_id, what="user id")),
        currency=Currency.parse(stake.currency),
        amount=parse_minor_units(stake.amount),
        round=stake.round.key(),
        placed_at=stake.placed_at,
    )
